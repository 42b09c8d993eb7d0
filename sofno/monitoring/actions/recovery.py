"""Devices coming back online: the one recovery path, a few statements for a whole
batch of check-ins (a check-in on its own is a batch of one).

Rules (the same outcome, events and timeline rows as the devices coming back one by
one, in the batch's order):
- each returning device is claimed by a compare-and-set on its old status, its rows
  locked with ``SKIP LOCKED`` on PostgreSQL: a device another server process is
  bringing back is left to it (its check-in then waits on the batched statement);
- the device turns online with a fresh deadline, its offline period closes and
  ``device.online`` is emitted (``previous``: its old status);
- a computer of an open site incident is noted back (``site.device_up``, partial
  recovery on the timeline); the one that brings the last computer back resolves it
  (``site.up``, ``incident.resolved``);
- its own open incident resolves automatically (``incident.resolved``).

Locks are taken in one order, devices, then sites, then device incidents (each in id
order), then the event counter: the sweeper's order, so the two never deadlock.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from sofno.core.models import Organization
from sofno.events.emit import NewEvent, emit_many
from sofno.monitoring.actions.bulk import insert_rows, update_rows
from sofno.monitoring.actions.payloads import SYSTEM, site_data, site_title
from sofno.monitoring.models import (
    OPEN_STATUSES,
    Device,
    DeviceStatus,
    Incident,
    IncidentEntry,
    IncidentStatus,
    OfflinePeriod,
    SiteMember,
    TimelineKind,
)

_ENTRY_COLUMNS = ["incident_id", "at", "kind", "message", "actor_label"]


@dataclass(slots=True)
class Returning:
    """A device this batch brought back: what its events need, no model instance."""

    id: int
    organization_id: int
    customer_id: int
    public_id: uuid.UUID
    name: str
    previous: str
    last_checkin_at: dt.datetime | None
    last_ip: str | None
    interval: int
    grace: int
    customer_public_id: uuid.UUID
    customer_name: str
    key_hash: str

    def data(self) -> dict:
        """``device_data`` of the device brought back: online, with the check-in before
        this one."""
        return {
            "device_id": str(self.public_id),
            "device_name": self.name,
            "customer_id": str(self.customer_public_id),
            "customer_name": self.customer_name,
            "status": DeviceStatus.ONLINE.value,
            "last_checkin_at": self.last_checkin_at.isoformat() if self.last_checkin_at else None,
            "last_ip": self.last_ip,
        }


def come_online_many(key_hashes: Sequence[str], at: dt.datetime) -> list[Returning]:
    """Bring the active devices with these keys that are not online back online (in
    the caller's transaction); returns those it brought back, in ``key_hashes`` order.

    Devices that are unknown, inactive (or of an inactive customer), already online,
    or being brought back by another transaction are left alone.
    """
    devices = _claim(key_hashes, at)
    if not devices:
        return []
    order = {key: n for n, key in enumerate(key_hashes)}
    devices.sort(key=lambda d: order[d.key_hash])
    ids = [d.id for d in devices]
    OfflinePeriod.objects.filter(device_id__in=ids, ended_at__isnull=True).update(ended_at=at)
    # Each device's events in order: online, its site, its own incident.
    per_device: dict[int, list[NewEvent]] = {
        d.id: [
            NewEvent(
                "device.online",
                f"device:{d.public_id}",
                {**d.data(), "previous": d.previous},
                occurred_at=at,
            )
        ]
        for d in devices
    }
    entries: list[tuple] = []
    _sites_back(devices, at, per_device, entries)
    _resolve_device_incidents(devices, at, per_device, entries)
    insert_rows(IncidentEntry, _ENTRY_COLUMNS, entries)
    batches: dict[int, list[NewEvent]] = defaultdict(list)
    for device in devices:
        batches[device.organization_id] += per_device[device.id]
    organizations = Organization.objects.in_bulk(list(batches))
    for organization_id, batch in batches.items():
        emit_many(organizations[organization_id], batch)
    return devices


def _claim(key_hashes: Sequence[str], at: dt.datetime) -> list[Returning]:
    """Lock and flip the batch's returning devices to online.

    On PostgreSQL the rows are locked ``SKIP LOCKED`` and flipped by a compare-and-set
    on the status read with the lock; SQLite's transactions here take the write lock
    when they begin (``IMMEDIATE``), so what they read cannot change under them.
    """
    rows = (
        Device.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(key_hash__in=list(key_hashes), active=True, customer__active=True)
        .exclude(status=DeviceStatus.ONLINE)
        .order_by("id")
        .values_list(
            "id",
            "organization_id",
            "customer_id",
            "public_id",
            "name",
            "status",
            "last_checkin_at",
            "last_ip",
            "effective_interval",
            "effective_grace",
            "customer__public_id",
            "customer__name",
            "key_hash",
        )
    )
    devices = [Returning(*row) for row in rows]
    if not devices:
        return []
    adapt = connection.ops.adapt_datetimefield_value
    # The deadline as the check-in itself sets it (Device.deadline_from), so the
    # sweeper cannot flip a device back before its check-in is stored.
    flips = [
        (d.id, d.previous, adapt(at + dt.timedelta(seconds=d.interval + d.grace))) for d in devices
    ]
    flipped = _flip(flips, adapt(at))
    return [d for d in devices if d.id in flipped]


def _flip(rows: list[tuple], at) -> set[int]:
    """``status = online`` where the status is still the one read; returns the ids
    flipped."""
    quote = connection.ops.quote_name
    table = quote(Device._meta.db_table)
    online = DeviceStatus.ONLINE.value
    # Identifiers come from model metadata; every value is a parameter.
    if connection.vendor == "postgresql":
        records = [{"id": i, "status": s, "alert_after": a} for i, s, a in rows]
        sql = (
            f"UPDATE {table} AS d SET status = %s, status_changed_at = %s, "  # noqa: S608
            f"last_checkin_at = %s, alert_after = v.alert_after "
            f"FROM json_populate_recordset(NULL::{table}, %s) v "
            f"WHERE d.id = v.id AND d.status = v.status RETURNING d.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [online, at, at, json.dumps(records, default=str)])
            return {row[0] for row in cursor.fetchall()}
    flipped = set()
    with connection.cursor() as cursor:
        for device_id, status, alert_after in rows:
            cursor.execute(
                f"UPDATE {table} SET status = %s, status_changed_at = %s, "  # noqa: S608
                f"last_checkin_at = %s, alert_after = %s WHERE id = %s AND status = %s",
                [online, at, at, alert_after, device_id, status],
            )
            if cursor.rowcount:
                flipped.add(device_id)
    return flipped


def _sites_back(devices: list[Returning], at, per_device: dict, entries: list) -> None:
    """Note the batch's computers of open site incidents back; resolve a site when its
    last computer is back. Per site, the computers in batch order, as if each came
    back alone (the counts and names each event carries step down one by one)."""
    by_id = {d.id: d for d in devices}
    # A claimed device's membership cannot change under us: only the sweeper notes a
    # computer down again, and it flips online devices only.
    members = list(
        SiteMember.objects.filter(
            device_id__in=list(by_id), back_at__isnull=True, incident__status__in=OPEN_STATUSES
        ).values_list("id", "incident_id", "device_id")
    )
    if not members:
        return
    # Locked in id order (as the sweeper attaching computers does), so concurrent
    # recoveries and sweeps count each other's committed members.
    sites = {
        site.id: site
        for site in Incident.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(id__in=sorted({m[1] for m in members}), status__in=OPEN_STATUSES)
        .order_by("id")
    }
    members = [m for m in members if m[1] in sites]  # not those resolved by hand meanwhile
    if not members:
        return
    SiteMember.objects.filter(id__in=[m[0] for m in members]).update(back_at=at)
    still: dict[int, list[str]] = defaultdict(list)
    for incident_id, name in SiteMember.objects.filter(
        incident_id__in=list(sites), back_at__isnull=True
    ).values_list("incident_id", "device__name"):
        still[incident_id].append(name)
    back: dict[int, list[Returning]] = defaultdict(list)
    for _pk, incident_id, device_id in members:
        back[incident_id].append(by_id[device_id])
    order = {d.id: n for n, d in enumerate(devices)}
    adapt = connection.ops.adapt_datetimefield_value
    stamp = adapt(at)
    changed = []
    for site_id, group in back.items():
        site = sites[site_id]
        group.sort(key=lambda d: order[d.id])
        subject = f"customer:{site.customer.public_id}"
        for n, device in enumerate(group):
            later = [d.name for d in group[n + 1 :]]
            left = len(still[site_id]) + len(later)
            site.devices_down = left
            if left:
                site.title = site_title(site.customer.name, left, site.devices_total)
                message = f"{device.name} is back ({left} of {site.devices_total} still offline)."
                entries.append((site.id, stamp, TimelineKind.DEVICE_UP.value, message, SYSTEM))
                data = {**site_data(site, still[site_id] + later), "device_name": device.name}
                per_device[device.id].append(
                    NewEvent("site.device_up", subject, data, occurred_at=at)
                )
                continue
            site.status, site.resolved_at, site.auto_resolved = IncidentStatus.RESOLVED, at, True
            message = f"{device.name} is back: every computer is online again."
            entries.append((site.id, stamp, TimelineKind.RECOVERED.value, message, SYSTEM))
            entries.append(
                (
                    site.id,
                    stamp,
                    TimelineKind.RESOLVED.value,
                    "Resolved automatically on recovery.",
                    SYSTEM,
                )
            )
            data = {**site_data(site, []), "device_name": device.name, "auto": True}
            per_device[device.id] += [
                NewEvent("site.up", subject, data, occurred_at=at),
                NewEvent("incident.resolved", subject, data, occurred_at=at),
            ]
        changed.append(site)
    update_rows(
        Incident,
        ["devices_down", "title", "status", "resolved_at", "auto_resolved"],
        [
            (s.id, s.devices_down, s.title, s.status, adapt(s.resolved_at), s.auto_resolved)
            for s in changed
        ],
    )


def _resolve_device_incidents(
    devices: list[Returning], at: dt.datetime, per_device: dict, entries: list
) -> None:
    """Resolve the returning devices' own open incidents automatically."""
    by_id = {d.id: d for d in devices}
    incidents = list(
        Incident.objects.select_for_update(of=("self",))
        .filter(device_id__in=list(by_id), status__in=OPEN_STATUSES)
        .order_by("id")
    )
    if not incidents:
        return
    Incident.objects.filter(id__in=[i.id for i in incidents]).update(
        status=IncidentStatus.RESOLVED, resolved_at=at, auto_resolved=True
    )
    stamp = connection.ops.adapt_datetimefield_value(at)
    for incident in incidents:
        device = by_id[incident.device_id]
        incident.status, incident.resolved_at = IncidentStatus.RESOLVED, at
        entries.append((incident.id, stamp, TimelineKind.RECOVERED.value, "", SYSTEM))
        entries.append(
            (
                incident.id,
                stamp,
                TimelineKind.RESOLVED.value,
                "Resolved automatically on recovery.",
                SYSTEM,
            )
        )
        data = {
            **device.data(),
            "incident_id": str(incident.public_id),
            "incident_status": incident.status,
            "title": incident.title,
            "opened_at": incident.opened_at.isoformat(),
            "kind": incident.kind,
            "auto": True,
        }
        per_device[device.id].append(
            NewEvent("incident.resolved", f"device:{device.public_id}", data, occurred_at=at)
        )
