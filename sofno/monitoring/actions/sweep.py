"""The sweeper's flips: overdue online devices go offline, incidents open."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from sofno.core.models import Organization
from sofno.directory.models import Customer
from sofno.events.emit import NewEvent, emit_many
from sofno.monitoring import conf
from sofno.monitoring.actions import outage, sites
from sofno.monitoring.actions.bulk import insert_incidents, insert_rows
from sofno.monitoring.actions.payloads import ENTRY_COLUMNS, entry_row
from sofno.monitoring.models import (
    DEFAULT_FLAP_WINDOW,
    OPEN_STATUSES,
    Device,
    DeviceStatus,
    Incident,
    IncidentEntry,
    IncidentStatus,
    MonitoringDefaults,
    OfflinePeriod,
    TimelineKind,
)
from sofno.monitoring.words import Say, say

# --- going offline (the sweeper) ---------------------------------------------------

# Devices flipped per transaction. Each batch commits (its events become visible)
# before the next is claimed, so during a mass outage the first devices are not held
# back by the last; big enough that per-statement overhead stays small.
SWEEP_BATCH = 1000


@dataclass(slots=True)
class _Flipped:
    """A device the sweeper just flipped: only what the flip needs, no model instance
    (building thousands of ``Device`` objects is a large part of a mass outage)."""

    id: int
    organization_id: int
    customer_id: int
    public_id: uuid.UUID
    name: str
    since: dt.datetime
    last_checkin_at: dt.datetime | None
    last_ip: str | None


def _claim(now: dt.datetime, limit: int) -> list[_Flipped]:
    """Flip up to ``limit`` overdue online devices to offline in one statement.

    ``WITH claimed AS MATERIALIZED (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED) UPDATE
    ... WHERE id IN claimed AND status = 'online' RETURNING id``: a compare-and-set,
    so several workers each get their own devices (SQLite serializes writers and has
    no row locks, hence no lock clause). The CTE is materialized so the locking
    subquery runs once: written inline as ``id IN (SELECT ... LIMIT n)``, PostgreSQL
    may run it again per row and flip more than ``n``.

    Devices with one deadline are taken customer by customer, so that after downtime
    (every deadline due at once) a customer's computers fall in one batch: one site
    incident opened whole, not one grown by a computer at a time over ten batches.
    """
    table = connection.ops.quote_name(Device._meta.db_table)
    lock = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    adapt = connection.ops.adapt_datetimefield_value
    # Identifiers come from model metadata; every value is a parameter.
    sql = (
        f"WITH claimed AS MATERIALIZED (SELECT id FROM {table} "  # noqa: S608
        f"WHERE status = %s AND alert_after <= %s "
        f"ORDER BY alert_after, customer_id LIMIT %s{lock}) "
        f"UPDATE {table} SET status = %s, status_changed_at = %s "
        f"WHERE id IN (SELECT id FROM claimed) AND status = %s RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                DeviceStatus.ONLINE.value,
                adapt(now),
                limit,
                DeviceStatus.OFFLINE.value,
                adapt(now),
                DeviceStatus.ONLINE.value,
            ],
        )
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return []
    rows = Device.objects.filter(id__in=ids).values_list(
        "id",
        "organization_id",
        "customer_id",
        "public_id",
        "name",
        "alert_after",
        "last_checkin_at",
        "last_ip",
    )
    flipped = [_Flipped(*row) for row in rows]
    for device in flipped:
        device.since = device.since or now
    flipped.sort(key=lambda d: d.since)
    return flipped


def sweep_offline(now: dt.datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Flip online devices past their deadline to offline; returns how many.

    - Claims a batch in one compare-and-set statement (with ``SKIP LOCKED`` on
      PostgreSQL) so several workers share the work and none flips a device twice.
    - Each flipped device gets an offline period and a ``device.offline`` event.
    - Several computers of one customer offline within its site window are one site
      incident (``sites``); a lone computer gets a device incident, or re-opens the
      one resolved within the flap window (one incident, not a storm).
    - An incident alerts (``incident.alert``) at once when its customer has no
      computer left online, else after the group wait, so siblings join first.
    - Many customers' computers silent together open a suspected outage of our own
      (``outage``). All of it in one transaction per batch.
    """
    now = now or timezone.now()
    with transaction.atomic():
        claimed = _claim(now, limit)
        if not claimed:
            return 0
        _record(claimed, now)
    return len(claimed)


def _flap_windows(org_ids: set[int]) -> dict[int, int]:
    found = dict(
        MonitoringDefaults.objects.filter(organization_id__in=org_ids).values_list(
            "organization_id", "flap_window"
        )
    )
    return {org_id: found.get(org_id, DEFAULT_FLAP_WINDOW) for org_id in org_ids}


def _recent_incidents(devices, now: dt.datetime, flap: dict[int, int]) -> dict[int, Incident]:
    """Each device's open incident, or its latest one resolved within the flap window."""
    oldest = now - dt.timedelta(seconds=max(flap.values()))
    recent: dict[int, Incident] = {}
    for incident in (
        Incident.objects.filter(device_id__in=[d.id for d in devices])
        .filter(Q(status__in=OPEN_STATUSES) | Q(resolved_at__gte=oldest))
        .order_by("resolved_at")
    ):
        current = recent.get(incident.device_id)
        if current is None or not current.is_open:
            recent[incident.device_id] = incident
    return recent


def _offline_data(device: _Flipped, customer: Customer) -> dict:
    return {
        "device_id": str(device.public_id),
        "device_name": device.name,
        "customer_id": str(customer.public_id),
        "customer_name": customer.name,
        "status": DeviceStatus.OFFLINE.value,
        "last_checkin_at": device.last_checkin_at.isoformat() if device.last_checkin_at else None,
        "last_ip": device.last_ip,
    }


def _record(devices: list[_Flipped], now: dt.datetime) -> None:
    """Offline periods, incidents (device or site), timeline rows and events for freshly
    flipped devices, in a few statements per batch."""
    adapt = connection.ops.adapt_datetimefield_value
    insert_rows(
        OfflinePeriod,
        ["organization_id", "device_id", "started_at"],
        [(d.organization_id, d.id, adapt(d.since)) for d in devices],
    )
    customers = Customer.objects.in_bulk({d.customer_id for d in devices})
    orgs = Organization.objects.in_bulk({d.organization_id for d in devices})
    events: dict[int, list[NewEvent]] = defaultdict(list)
    grouping = sites.Grouping.load(devices, customers, now)
    lone = grouping.apply(events)
    if lone:
        _open_device_incidents(lone, customers, grouping, events, now)
    # Each device.offline first (in deadline order), carrying its incident's tokens.
    offline: dict[int, list[NewEvent]] = defaultdict(list)
    for device in devices:
        data = _offline_data(device, customers[device.customer_id])
        incident = grouping.incident_of.get(device.id)
        if incident is not None:
            data.update(
                incident_id=str(incident.public_id),
                incident_status=incident.status,
                title=incident.title,
                opened_at=incident.opened_at.isoformat(),
                kind=incident.kind,
            )
        offline[device.organization_id].append(
            NewEvent("device.offline", f"device:{device.public_id}", data, occurred_at=device.since)
        )
    # Before the events: emitting takes the organization's sequence lock, held until
    # commit, so nothing slow may follow it.
    outage.check(orgs, now)
    for org_id, batch in offline.items():
        emit_many(orgs[org_id], batch + events.pop(org_id, []))
    for org_id, batch in events.items():
        emit_many(orgs[org_id], batch)


def _open_device_incidents(devices, customers, grouping, events, now: dt.datetime) -> None:
    """A device incident each for devices going silent alone (or the one re-opened
    while flapping)."""
    flap = _flap_windows({d.organization_id for d in devices})
    recent = _recent_incidents(devices, now, flap)
    adapt = connection.ops.adapt_datetimefield_value
    wait = dt.timedelta(seconds=conf.group_wait())
    fresh: list[Incident] = []
    touched: list[Incident] = []
    kinds: dict[int, str] = {}
    for device in devices:
        since, customer = device.since, customers[device.customer_id]
        incident = recent.get(device.id)
        if incident is not None and incident.is_open:
            kinds[device.id] = ""  # already open (acknowledged, say): nothing new to say
            grouping.incident_of[device.id] = incident
            continue
        if incident is not None and incident.resolved_at >= since - dt.timedelta(
            seconds=flap[device.organization_id]
        ):
            # Flapping: the same incident again, without a second "opened" or alert.
            incident.status, incident.resolved_at, incident.resolved_by = (
                IncidentStatus.OPEN,
                None,
                None,
            )
            incident.auto_resolved, incident.flaps = False, incident.flaps + 1
            kinds[device.id] = TimelineKind.REOPENED
            touched.append(incident)
        else:
            incident = Incident(
                organization_id=device.organization_id,
                device_id=device.id,
                customer_id=customer.pk,
                status=IncidentStatus.OPEN,
                title=f"{device.name} ({customer.name}) is offline",
                opened_at=since,
            )
            kinds[device.id] = TimelineKind.OPENED
            fresh.append(incident)
            # Siblings still online may follow within the group wait: then one site
            # incident alerts instead of this one.
            waiting = grouping.online.get(customer.pk, 0) > 0
            incident.alert_due_at = now + wait if waiting else now
            if incident.alert_due_at <= now:
                incident.alerted_at = now
        recent[device.id] = incident
        grouping.incident_of[device.id] = incident
    made = insert_incidents(fresh, returning="id, device_id")
    for incident_id, device_id in made:
        recent[device_id].id = incident_id
    for incident in touched:  # few: only flapping devices
        incident.save(
            update_fields=["status", "resolved_at", "resolved_by", "auto_resolved", "flaps"]
        )
    entries: list[tuple] = []
    at = adapt(now)
    for device in devices:
        kind = kinds[device.id]
        if not kind:
            continue
        incident, customer = recent[device.id], customers[device.customer_id]
        data = {
            **_offline_data(device, customer),
            "incident_id": str(incident.public_id),
            "incident_status": incident.status,
            "title": incident.title,
            "opened_at": incident.opened_at.isoformat(),
            "kind": "device",
        }
        subject = f"device:{device.public_id}"
        batch = events[device.organization_id]
        if kind == TimelineKind.OPENED:
            entries.append(entry_row(incident.id, at, kind, say(Say.NO_CHECKIN)))
            batch.append(NewEvent("incident.opened", subject, data, occurred_at=device.since))
            if incident.alerted_at == now:
                entries.append(entry_row(incident.id, at, TimelineKind.ALERT.value, say(Say.ALONE)))
                batch.append(NewEvent("incident.alert", subject, data, occurred_at=now))
        else:
            entries.append(entry_row(incident.id, at, kind, say(Say.FLAP, n=incident.flaps)))
    insert_rows(IncidentEntry, ENTRY_COLUMNS, entries)
