"""Incident pages: list, detail with timeline, acknowledge and resolve."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from sofno.core.access import get_scoped_or_404
from sofno.core.scoping import customer_access
from sofno.monitoring import actions
from sofno.monitoring.models import IncidentStatus
from sofno.monitoring.selectors import incidents_for
from sofno.web.access import require_actor, require_writer
from sofno.web.paging import chosen_customer, page_of, public_id, sorted_by

STATUS_CLASSES = {
    IncidentStatus.OPEN: "danger",
    IncidentStatus.ACKNOWLEDGED: "warning",
    IncidentStatus.RESOLVED: "success",
}

# The list's sortable columns (``?sort=key`` or ``-key``).
INCIDENT_COLUMNS = {
    "opened": ["opened_at"],
    "device": ["device__name", "customer__name"],
    "customer": ["customer__name", "opened_at"],
    "status": ["status", "opened_at"],
}
# The most incidents one bulk action touches: one page of the list.
BULK_LIMIT = 200


@login_required
@require_GET
@customer_access
def incident_list(request: HttpRequest) -> HttpResponse:
    actor = require_actor(request)
    status = request.GET.get("status", "active")
    incidents = incidents_for(actor)
    if status == "active":
        incidents = incidents.filter(status__in=[IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED])
    elif status in IncidentStatus.values:
        incidents = incidents.filter(status=status)
    if customer := chosen_customer(request, actor):
        incidents = incidents.filter(customer=customer)
    query = request.GET.get("q", "").strip()
    if query:
        incidents = incidents.filter(
            Q(title__icontains=query)
            | Q(device__name__icontains=query)
            | Q(customer__name__icontains=query)
        )
    incidents, sort = sorted_by(request, incidents, INCIDENT_COLUMNS, default="-opened")
    page = page_of(request, incidents)
    context = {
        "incidents": page.object_list,
        "page": page,
        "q": query,
        "sort": sort,
        "for_customer": customer,
        "status": status,
        "statuses": IncidentStatus.choices,
        "classes": STATUS_CLASSES,
    }
    return render(request, "web/incidents/list.html", context)


@login_required
@require_GET
@customer_access
def incident_detail(request: HttpRequest, public_id) -> HttpResponse:
    actor = require_actor(request)
    incident = get_scoped_or_404(incidents_for(actor), actor, public_id=public_id)
    context = {
        "incident": incident,
        "timeline": incident.timeline.select_related("user"),
        "classes": STATUS_CLASSES,
    }
    return render(request, "web/incidents/detail.html", context)


def _act(request: HttpRequest, public_id, action, done: str) -> HttpResponse:
    actor = require_writer(request)
    incident = get_scoped_or_404(incidents_for(actor), actor, public_id=public_id)
    try:
        action(acting_user=actor, incident=incident, note=request.POST.get("note", "")[:300])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    if request.POST.get("next") == "list":
        return redirect("web:incident-list")
    return redirect("web:incident-detail", incident.public_id)


@login_required
@require_POST
def incident_acknowledge(request: HttpRequest, public_id) -> HttpResponse:
    return _act(request, public_id, actions.acknowledge_incident, _("Incident acknowledged."))


@login_required
@require_POST
def incident_resolve(request: HttpRequest, public_id) -> HttpResponse:
    return _act(request, public_id, actions.resolve_incident, _("Incident resolved."))


@login_required
@require_POST
def incident_bulk(request: HttpRequest) -> HttpResponse:
    """Acknowledge or resolve the incidents ticked on the list, in one go.

    - Each goes through the same action as the single-incident buttons (timeline,
      audit, event), so a bulk change leaves the same trail.
    - Only the actor's organization's incidents are looked at: another organization's
      ids, junk and unknown ids are ignored; incidents already in that state are skipped.
    - Back to the list with its filters, sort and page, saying how many changed.
    """
    actor = require_writer(request)
    kind = request.POST.get("action")
    wanted = {public_id(value) for value in request.POST.getlist("incident")[:BULK_LIMIT]}
    wanted.discard(None)
    if kind not in ("acknowledge", "resolve"):
        messages.error(request, _("Choose acknowledge or resolve."))
    elif not wanted:
        messages.warning(request, _("No incident was selected."))
    else:
        action = actions.acknowledge_incident if kind == "acknowledge" else actions.resolve_incident
        changed = 0
        for incident in incidents_for(actor).filter(public_id__in=wanted):
            try:
                action(acting_user=actor, incident=incident)
            except ValidationError:
                continue  # already in that state (by someone else, meanwhile): skipped
            changed += 1
        if kind == "acknowledge":
            text = ngettext(
                "%(count)d incident acknowledged.", "%(count)d incidents acknowledged.", changed
            )
        else:
            text = ngettext(
                "%(count)d incident resolved.", "%(count)d incidents resolved.", changed
            )
        messages.success(request, text % {"count": changed})
    # The list's own query string, re-encoded: only parameters, never another address.
    back = QueryDict(request.POST.get("back", "")).urlencode()
    return redirect(reverse("web:incident-list") + (f"?{back}" if back else ""))


patterns = [
    path("", incident_list, name="incident-list"),
    path("bulk/", incident_bulk, name="incident-bulk"),
    path("<uuid:public_id>/", incident_detail, name="incident-detail"),
    path("<uuid:public_id>/acknowledge/", incident_acknowledge, name="incident-acknowledge"),
    path("<uuid:public_id>/resolve/", incident_resolve, name="incident-resolve"),
]
