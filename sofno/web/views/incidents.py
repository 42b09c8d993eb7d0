"""Incident pages: list, detail with timeline, acknowledge and resolve."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sofno.core.access import get_scoped_or_404
from sofno.core.scoping import customer_access
from sofno.monitoring import actions
from sofno.monitoring.models import IncidentStatus
from sofno.monitoring.selectors import incidents_for
from sofno.web.access import require_actor, require_writer
from sofno.web.paging import page_of

STATUS_CLASSES = {
    IncidentStatus.OPEN: "danger",
    IncidentStatus.ACKNOWLEDGED: "warning",
    IncidentStatus.RESOLVED: "success",
}


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
    page = page_of(request, incidents.order_by("-opened_at", "-pk"))
    context = {
        "incidents": page.object_list,
        "page": page,
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


patterns = [
    path("", incident_list, name="incident-list"),
    path("<uuid:public_id>/", incident_detail, name="incident-detail"),
    path("<uuid:public_id>/acknowledge/", incident_acknowledge, name="incident-acknowledge"),
    path("<uuid:public_id>/resolve/", incident_resolve, name="incident-resolve"),
]
