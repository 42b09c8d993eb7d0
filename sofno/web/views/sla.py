"""The SLA report: each customer's availability and incidents over one month, on
screen and as CSV (staff only: no ``@customer_access``)."""

from __future__ import annotations

import csv
import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from sofno.core.access import Actor
from sofno.directory.selectors import customers_for
from sofno.monitoring import availability
from sofno.monitoring.selectors import devices_for, incidents_for
from sofno.web.access import require_actor
from sofno.web.paging import page_of

SORTS = ("name", "availability", "incidents", "devices")


def _month(request: HttpRequest, zone: ZoneInfo) -> dt.date:
    """The first day of ``?month=YYYY-MM``; this month when absent or not a month."""
    try:
        return dt.datetime.strptime(request.GET.get("month", ""), "%Y-%m").date()
    except ValueError:
        return timezone.now().astimezone(zone).date().replace(day=1)


def _next_month(first: dt.date) -> dt.date:
    return (first + dt.timedelta(days=32)).replace(day=1)


def sla_rows(actor: Actor, first: dt.date, now: dt.datetime | None = None) -> list[dict]:
    """One row per customer for the month starting ``first`` (organization's time).

    ``availability`` is the mean uptime of the customer's computers over the month
    (up to now for the running month), in percent; ``None`` when none was monitored.
    ``incidents`` counts the incidents opened in the month, a device incident merged
    into its site's incident counted once, as the site's.
    """
    now = now or timezone.now()
    zone = ZoneInfo(actor.organization.timezone or "UTC")
    start = dt.datetime.combine(first, dt.time(), zone).astimezone(dt.UTC)
    end = min(dt.datetime.combine(_next_month(first), dt.time(), zone).astimezone(dt.UTC), now)
    customers = list(customers_for(actor).order_by("name", "pk"))
    # Thousands of devices: read as plain values, never as models.
    devices = devices_for(actor).filter(created_at__lt=end).select_related(None).order_by()
    if end <= start:
        devices = devices.none()
    uptimes = availability.uptime_between(devices, start=start, end=end)
    per_customer: dict[int, list[float]] = {}
    counted: dict[int, int] = {}
    for pk, customer_id in devices.values_list("pk", "customer_id"):
        counted[customer_id] = counted.get(customer_id, 0) + 1
        if uptimes.get(pk) is not None:
            per_customer.setdefault(customer_id, []).append(uptimes[pk])
    incidents = dict(
        incidents_for(actor)
        .select_related(None)
        .filter(opened_at__gte=start, opened_at__lt=end, merged_into__isnull=True)
        .order_by()
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )
    rows = []
    for customer in customers:
        shares = per_customer.get(customer.pk)
        rows.append(
            {
                "customer": customer,
                "devices": counted.get(customer.pk, 0),
                "availability": sum(shares) / len(shares) * 100 if shares else None,
                "incidents": incidents.get(customer.pk, 0),
            }
        )
    return rows


def _sorted(rows: list[dict], sort: str) -> list[dict]:
    key = sort.lstrip("-")
    reverse = sort.startswith("-")
    if key == "name":
        return sorted(rows, key=lambda r: r["customer"].name.casefold(), reverse=reverse)
    # Customers with no figure go last whichever the direction.
    known = [r for r in rows if r[key] is not None]
    unknown = [r for r in rows if r[key] is None]
    return sorted(known, key=lambda r: r[key], reverse=reverse) + unknown


@login_required
@require_GET
def sla_report(request: HttpRequest) -> HttpResponse:
    """Monthly availability and incidents per customer; ``?format=csv`` downloads it."""
    actor = require_actor(request)
    zone = ZoneInfo(actor.organization.timezone or "UTC")
    first = _month(request, zone)
    sort = request.GET.get("sort", "availability")
    if sort.lstrip("-") not in SORTS:
        sort = "availability"
    rows = _sorted(sla_rows(actor, first), sort)
    if request.GET.get("format") == "csv":
        return _csv(rows, first)
    this_month = timezone.now().astimezone(zone).date().replace(day=1)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = _next_month(first)
    context = {
        "page": page_of(request, rows),
        "month": first,
        "month_value": f"{first:%Y-%m}",
        "previous_month": f"{previous:%Y-%m}",
        "next_month": f"{following:%Y-%m}" if following <= this_month else "",
        "running": first == this_month,
        "sort": sort,
        "sorts": {key: ("-" + key if sort == key else key) for key in SORTS},
    }
    known = [r["availability"] for r in rows if r["availability"] is not None]
    context["overall"] = sum(known) / len(known) if known else None
    context["incident_total"] = sum(r["incidents"] for r in rows)
    return render(request, "web/customers/sla.html", context)


def _csv(rows: list[dict], first: dt.date) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sla-{first:%Y-%m}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [_("Customer"), _("Month"), _("Computers"), _("Availability (%)"), _("Incidents")]
    )
    for row in rows:
        share = row["availability"]
        writer.writerow(
            [
                _cell(row["customer"].name),
                f"{first:%Y-%m}",
                row["devices"],
                "" if share is None else f"{share:.3f}",
                row["incidents"],
            ]
        )
    return response


def _cell(text: str) -> str:
    # A name starting like a formula would run as one in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


patterns = [
    path("sla/", sla_report, name="sla-report"),
]
