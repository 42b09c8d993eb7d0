"""The customer's own window: their computers, incidents, tickets and who to call.

Only customer users land here; every query goes through the same scoped selectors as
the rest of the site, so nothing of another customer can appear.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from sofno.core.scoping import customer_access
from sofno.core.usernames import sign_in_name_expression
from sofno.directory.models import StaffProfile
from sofno.directory.selectors import customers_for
from sofno.monitoring import availability
from sofno.monitoring.models import DeviceStatus, IncidentStatus
from sofno.monitoring.selectors import devices_for, incidents_for
from sofno.tickets.selectors import tickets_for
from sofno.web.access import require_actor

RECENT_INCIDENTS = 20
RECENT_TICKETS = 30


@login_required
@require_GET
@customer_access
def portal(request: HttpRequest) -> HttpResponse:
    """A customer user's home."""
    actor = require_actor(request)
    if not actor.is_customer_user:
        raise PermissionDenied(_("This page is for customer users."))
    customer = customers_for(actor).first()
    now = timezone.now()
    devices = list(devices_for(actor).filter(active=True).order_by("name", "pk"))
    tz = customer.timezone if customer else "UTC"
    days = availability.daily(devices, tz=tz or "UTC", now=now)
    month = availability.uptime(devices, window=dt.timedelta(days=30), now=now)
    computers = [
        {
            "device": d,
            "days": days[d.pk],
            "uptime_percent": None if month[d.pk] is None else month[d.pk] * 100,
        }
        for d in devices
    ]
    incidents = list(
        incidents_for(actor).prefetch_related("timeline").order_by("-opened_at")[:RECENT_INCIDENTS]
    )
    tickets = list(
        tickets_for(actor).select_related("status").order_by("-updated_at")[:RECENT_TICKETS]
    )
    agents = (
        list(customer.assigned_agents.order_by("first_name", sign_in_name_expression()))
        if customer
        else []
    )
    phones = dict(StaffProfile.objects.filter(user__in=agents).values_list("user_id", "phone"))
    context = {
        "customer": customer,
        "computers": computers,
        "offline": sum(1 for d in devices if d.status == DeviceStatus.OFFLINE),
        "open_incidents": [i for i in incidents if i.status != IncidentStatus.RESOLVED],
        "past_incidents": [i for i in incidents if i.status == IncidentStatus.RESOLVED],
        "tickets": tickets,
        "contacts": [(agent, phones.get(agent.pk, "")) for agent in agents],
    }
    return render(request, "web/portal.html", context)


patterns = [path("", portal, name="portal")]
