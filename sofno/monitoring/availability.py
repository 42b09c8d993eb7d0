"""Availability from offline periods: uptime per day and over a window.

Rules:
- A device is available whenever it is not inside an offline period; the time
  before it was created is not counted (no data, not "up").
- Days are calendar days in the given timezone (a customer's status page uses the
  customer's), so a day cell means what the reader thinks it means, DST included.
- One query reads the offline periods of every device asked about: a page of a
  hundred devices costs one query, not a hundred.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone

from sofno.monitoring.models import Device, OfflinePeriod

BAR_DAYS = 90


@dataclass(frozen=True)
class Day:
    """One cell of an availability bar."""

    date: dt.date
    # Share of the monitored time the device was up (0.0-1.0); None: not monitored.
    uptime: float | None
    offline_seconds: int

    @property
    def percent(self) -> float | None:
        return None if self.uptime is None else self.uptime * 100

    @property
    def level(self) -> str:
        """A colour class: ``none``, ``up`` (100%), ``minor`` (>= 99%) or ``down``."""
        if self.uptime is None:
            return "none"
        if self.uptime >= 1.0:
            return "up"
        return "minor" if self.uptime >= 0.99 else "down"


def _periods(devices: Sequence[Device], since: dt.datetime) -> dict[int, list[tuple]]:
    found: dict[int, list[tuple]] = defaultdict(list)
    # A queryset (thousands of devices) is a subquery, not thousands of parameters.
    ids = devices.values("pk") if isinstance(devices, QuerySet) else [d.pk for d in devices]
    rows = OfflinePeriod.objects.filter(device__in=ids).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=since)
    )
    for device_id, started, ended in rows.values_list("device_id", "started_at", "ended_at"):
        found[device_id].append((started, ended))
    return found


def _offline_within(periods: list[tuple], start: dt.datetime, end: dt.datetime) -> float:
    total = 0.0
    for started, ended in periods:
        overlap = min(ended or end, end) - max(started, start)
        total += max(0.0, overlap.total_seconds())
    return total


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)


def daily(
    devices: Sequence[Device],
    *,
    tz: str = "UTC",
    days: int = BAR_DAYS,
    now: dt.datetime | None = None,
) -> dict[int, list[Day]]:
    """The last ``days`` calendar days (oldest first, today last) of each device."""
    now = now or timezone.now()
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    dates = [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    # In UTC: subtracting two times of one zone object would count wall-clock hours,
    # and a DST day has 23 or 25 real ones.
    bounds = [(d, _midnight(d, zone), _midnight(d + dt.timedelta(days=1), zone)) for d in dates]
    periods = _periods(devices, bounds[0][1])
    result: dict[int, list[Day]] = {}
    for device in devices:
        cells = []
        for date, start, end in bounds:
            start, end = max(start, device.created_at), min(end, now)
            observed = (end - start).total_seconds()
            if observed <= 0:
                cells.append(Day(date, None, 0))
                continue
            offline = min(observed, _offline_within(periods[device.pk], start, end))
            cells.append(Day(date, 1.0 - offline / observed, round(offline)))
        result[device.pk] = cells
    return result


def uptime(
    devices: Sequence[Device], *, window: dt.timedelta, now: dt.datetime | None = None
) -> dict[int, float | None]:
    """Each device's share of time up over the last ``window`` (None: not monitored)."""
    now = now or timezone.now()
    periods = _periods(devices, now - window)
    result: dict[int, float | None] = {}
    for device in devices:
        start = max(now - window, device.created_at)
        observed = (now - start).total_seconds()
        if observed <= 0:
            result[device.pk] = None
            continue
        offline = min(observed, _offline_within(periods[device.pk], start, now))
        result[device.pk] = 1.0 - offline / observed
    return result


def uptime_between(
    devices: Sequence[Device], *, start: dt.datetime, end: dt.datetime
) -> dict[int, float | None]:
    """Each device's share of time up between ``start`` and ``end`` (a past month for
    the SLA report); time before a device existed is not counted, ``None``: not
    monitored at all in the range."""
    periods = _periods(devices, start)
    # A queryset is read as plain (id, created) pairs: no model per device.
    created = (
        devices.values_list("pk", "created_at")
        if isinstance(devices, QuerySet)
        else [(d.pk, d.created_at) for d in devices]
    )
    result: dict[int, float | None] = {}
    for pk, created_at in created:
        begin = max(start, created_at)
        observed = (end - begin).total_seconds()
        if observed <= 0:
            result[pk] = None
            continue
        offline = min(observed, _offline_within(periods[pk], begin, end))
        result[pk] = 1.0 - offline / observed
    return result
