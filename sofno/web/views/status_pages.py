"""Customers' public status pages: the page itself (no sign-in) and staff's switches."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sofno.core.access import get_scoped_or_404
from sofno.core.scoping import customer_access
from sofno.directory.actions.status_pages import (
    find_status_page,
    publish_status_page,
    withdraw_status_page,
)
from sofno.directory.selectors import customers_for
from sofno.monitoring import availability
from sofno.monitoring.models import Device, DeviceStatus
from sofno.web.access import require_writer

UPTIME_WINDOW = dt.timedelta(days=30)


@require_GET
@customer_access  # open to anyone holding the token, signed in or not
def public_status(request: HttpRequest, token: str) -> HttpResponse:
    """The page a customer shares: their computers' state and 90 days of availability."""
    page = find_status_page(token)
    if page is None:
        raise Http404
    customer = page.customer
    devices = list(Device.objects.filter(customer=customer, active=True).order_by("name", "pk"))
    now = timezone.now()
    days = availability.daily(devices, tz=customer.timezone or "UTC", now=now)
    month = availability.uptime(devices, window=UPTIME_WINDOW, now=now)
    rows = [
        {
            "name": _("Computer %(n)d") % {"n": index} if page.hide_names else device.name,
            "online": device.status == DeviceStatus.ONLINE,
            "status": device.get_status_display(),
            "days": days[device.pk],
            "uptime": month[device.pk],
            "uptime_percent": None if month[device.pk] is None else month[device.pk] * 100,
        }
        for index, device in enumerate(devices, start=1)
    ]
    down = sum(1 for row in rows if not row["online"])
    response = render(
        request,
        "web/status_page.html",
        {"customer": customer, "rows": rows, "down": down, "checked_at": now},
    )
    # A private URL: keep it out of other sites' logs and of shared caches.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_POST
def status_page_switch(request: HttpRequest, public_id: str) -> HttpResponse:
    """Publish (with a new URL) or withdraw a customer's status page."""
    actor = require_writer(request)
    if actor.is_customer_user:
        raise PermissionDenied(_("Customer users may not see this."))
    customer = get_scoped_or_404(customers_for(actor), actor, public_id=public_id)
    if request.POST.get("action") == "withdraw":
        withdraw_status_page(acting_user=actor, customer=customer)
        messages.success(request, _("The status page is off; its address no longer works."))
    else:
        token = publish_status_page(
            acting_user=actor, customer=customer, hide_names=request.POST.get("hide_names") == "on"
        )
        url = request.build_absolute_uri(reverse("web:public-status", args=[token]))
        messages.success(
            request,
            _("The status page is on. Share this address; it is shown only now: %(url)s")
            % {"url": url},
        )
    return redirect(reverse("web:customer-detail", args=[customer.public_id]) + "#status-page")


patterns = [path("<uuid:public_id>/status-page/", status_page_switch, name="status-page-switch")]
public_patterns = [path("status/<str:token>/", public_status, name="public-status")]
