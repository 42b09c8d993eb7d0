"""Our own outage: when a large share of an organization's online computers, of many
customers, go silent together, the fault is probably ours (our network, our server),
not the customers'.

Rules (defaults in ``monitoring.conf``: 30% of the online computers, at least 5
customers, within 2 minutes):
- the sweeper checks after each batch it flips; the first crossing opens a
  :class:`~sofno.monitoring.models.SuspectedOutage` and emits ``monitoring.degraded``
  (the notification policy holds customer alerts while it is open and tells the
  admins once);
- each sweeper tick re-evaluates an open one as check-ins return: when the computers
  still silent fall below the threshold it closes and emits ``monitoring.recovered``
  (held alerts are then released for computers still offline, dropped for the rest).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from sofno.events.emit import emit
from sofno.monitoring import conf
from sofno.monitoring.models import Device, DeviceStatus, SuspectedOutage


def _counts(organization_id: int, since: dt.datetime) -> tuple[int, int, int]:
    """``(silent, total, customers)``: computers gone offline since ``since``, those
    plus the ones online, and the customers of the silent ones."""
    silent = Device.objects.filter(
        organization_id=organization_id,
        active=True,
        status=DeviceStatus.OFFLINE,
        status_changed_at__gte=since,
    )
    count = silent.count()
    if not count:
        return 0, 0, 0
    customers = silent.values("customer_id").distinct().count()
    online = Device.objects.filter(
        organization_id=organization_id, active=True, status=DeviceStatus.ONLINE
    ).count()
    return count, count + online, customers


def _crossed(silent: int, total: int, customers: int) -> bool:
    return (
        total > 0
        and customers >= conf.outage_customers()
        and silent * 100 >= conf.outage_share() * total
    )


def check(orgs: dict, now: dt.datetime) -> None:
    """After a sweep batch: open a suspected outage where the threshold is crossed."""
    since = now - dt.timedelta(seconds=conf.outage_window())
    for organization_id, organization in orgs.items():
        if SuspectedOutage.objects.filter(
            organization_id=organization_id, ended_at__isnull=True
        ).exists():
            continue
        silent, total, customers = _counts(organization_id, since)
        if not _crossed(silent, total, customers):
            continue
        try:
            with transaction.atomic():
                outage = SuspectedOutage.objects.create(
                    organization=organization,
                    started_at=now,
                    silent=silent,
                    total=total,
                    customers=customers,
                )
        except IntegrityError:
            continue  # another worker opened it
        emit(
            organization,
            "monitoring.degraded",
            "monitoring",
            {
                "devices_silent": silent,
                "devices_total": total,
                "customers": customers,
                "started_at": outage.started_at.isoformat(),
            },
            occurred_at=now,
        )


def review(now: dt.datetime | None = None) -> int:
    """Each sweeper tick: close the suspected outages whose computers are back;
    returns how many closed."""
    now = now or timezone.now()
    closed = 0
    window = dt.timedelta(seconds=conf.outage_window())
    for outage in SuspectedOutage.objects.filter(ended_at__isnull=True).select_related(
        "organization"
    ):
        silent, total, customers = _counts(outage.organization_id, outage.started_at - window)
        if _crossed(silent, total, customers):
            continue
        with transaction.atomic():
            if not SuspectedOutage.objects.filter(pk=outage.pk, ended_at__isnull=True).update(
                ended_at=now
            ):
                continue
            emit(
                outage.organization,
                "monitoring.recovered",
                "monitoring",
                {
                    "devices_silent": silent,
                    "devices_total": total,
                    "started_at": outage.started_at.isoformat(),
                    "ended_at": now.isoformat(),
                },
                occurred_at=now,
            )
        closed += 1
    return closed
