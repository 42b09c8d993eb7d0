"""The event log pages: a filtered list and one event with its deliveries."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from sofno.core.access import get_scoped_or_404
from sofno.core.scoping import customer_access, visible_to
from sofno.events import catalog
from sofno.events.models import Event
from sofno.web.access import require_actor
from sofno.web.subjects import describe_subjects


def _words(event_type: catalog.EventType | None) -> str:
    return str(event_type.description) if event_type else ""


@customer_access
@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    actor = require_actor(request)
    visible = events = visible_to(actor, Event.objects.all())
    filters = {
        "type": request.GET.get("type", "").strip(),
        "subject": request.GET.get("subject", "").strip(),
    }
    if filters["type"].endswith(".*"):
        events = events.filter(type__startswith=filters["type"][:-1])
    elif filters["type"]:
        events = events.filter(type=filters["type"])
    if filters["subject"]:
        events = events.filter(subject=filters["subject"])
    page = Paginator(events.order_by("-sequence"), 50).get_page(request.GET.get("page"))
    types = catalog.for_organization(actor.organization)
    names = sorted(
        # A customer user's choices come from their own events, not the catalog.
        set(visible.values_list("type", flat=True).distinct()) if actor.is_customer_user else types
    )
    context = {
        "page": page,
        "subject_links": describe_subjects(actor, [event.subject for event in page]),
        "filters": filters,
        "query": urlencode({k: v for k, v in filters.items() if v}),
        "event_types": types,
        "type_options": [(name, _words(types.get(name))) for name in names],
    }
    return render(request, "web/events/list.html", context)


@customer_access
@login_required
@require_GET
def event_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = require_actor(request)
    event = get_scoped_or_404(Event.objects.all(), actor, public_id=public_id)
    deliveries = event.deliveries.select_related("endpoint").order_by("id")
    if actor.is_customer_user:
        # Deliveries name webhook endpoints and staff recipients: staff only.
        deliveries = deliveries.none()
    context = {
        "event": event,
        "payload": json.dumps(event.payload, indent=2, ensure_ascii=False, default=str),
        "deliveries": deliveries,
    }
    return render(request, "web/events/detail.html", context)


patterns = [
    path("", event_list, name="event-list"),
    path("<uuid:public_id>/", event_detail, name="event-detail"),
]
