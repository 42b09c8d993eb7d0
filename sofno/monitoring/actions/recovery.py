"""Devices coming back online: the one recovery path, a few statements for a whole
batch of check-ins (a check-in on its own is a batch of one).

Rules (the same outcome, events and timeline rows as the devices coming back one by
one, in the batch's order):
- each returning device is claimed by a compare-and-set on its old status; on
  PostgreSQL it is taken first by a transaction-scoped advisory lock, so a device
  another server process is bringing back is left to it, and its row is written
  last, just before the commit: the batched check-in statement, which stores the
  check-ins of these devices meanwhile, waits for that write and no longer (a
  device that changed meanwhile makes the batch run again with its rows locked
  first);
- the device turns online with a fresh deadline, its offline period closes and
  ``device.online`` is emitted (``previous``: its old status);
- a computer of an open site incident is noted back (``site.device_up``, partial
  recovery on the timeline); the one that brings the last computer back resolves it
  (``site.up``, ``incident.resolved``);
- its own open incident resolves automatically (``incident.resolved``).

Locks are taken in one order, devices (their advisory locks on PostgreSQL), then
sites, then device incidents (each in id order), then the event counter: the
sweeper's order, so the two never deadlock. The devices' rows come last on
PostgreSQL; the sweeper locks only online devices' rows, and these are not online.

The fast path stores a returning device's check-in first and brings the device back
right after, in a transaction of its own (``stored=True``): its check-in is answered
without waiting for the recovery. Until that commits, the device is one whose stored
check-in is newer than its status; :func:`bring_back_stored` (the sweeper's) brings
back any such device a server process left behind (stopped in between).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from sofno.core.models import Organization
from sofno.events.emit import NewEvent, emit_many
from sofno.monitoring.actions.bulk import insert_rows, update_rows
from sofno.monitoring.actions.payloads import ENTRY_COLUMNS, entry_row, site_data, site_title
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
from sofno.monitoring.words import Say, say


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


def come_online_many(
    key_hashes: Sequence[str], at: dt.datetime, *, stored: bool = False
) -> list[Returning]:
    """Bring the active devices with these keys that are not online back online (in
    the caller's transaction); returns those it brought back, in ``key_hashes`` order.

    Devices that are unknown, inactive (or of an inactive customer), already online,
    or being brought back by another transaction are left alone. The caller stores
    the check-in at ``at`` after this; with ``stored=True`` the check-ins are stored
    already, and the devices keep the check-in time and deadline they hold.

    On PostgreSQL the devices' rows are written last (:func:`_claim_late`), so the
    check-ins the batched statement stores meanwhile wait only for that statement
    and the commit; should a device's status have changed meanwhile, the batch is
    done again with the rows locked first.
    """
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                return _come_online(key_hashes, at, stored, late=True)
        except _ClaimLost:
            pass  # changed meanwhile: again, rows locked first
    return _come_online(key_hashes, at, stored, late=False)


class _ClaimLost(Exception):
    """A device read for a late claim changed before its row was written."""


def _come_online(
    key_hashes: Sequence[str], at: dt.datetime, stored: bool, *, late: bool
) -> list[Returning]:
    devices = _read_returning(key_hashes) if late else _claim(key_hashes, at, stored)
    if not devices:
        return []
    order = {key: n for n, key in enumerate(key_hashes)}
    devices.sort(key=lambda d: order[d.key_hash])
    if connection.vendor != "postgresql":  # there the claim closes them
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
    insert_rows(IncidentEntry, ENTRY_COLUMNS, entries)
    batches: dict[int, list[NewEvent]] = defaultdict(list)
    for device in devices:
        batches[device.organization_id] += per_device[device.id]
    organizations = Organization.objects.in_bulk(list(batches))
    for organization_id, batch in batches.items():
        emit_many(organizations[organization_id], batch)
    if late:
        _claim_late(devices, at, stored)
    return devices


def bring_back_stored(limit: int = 500) -> int:
    """Bring back the devices whose stored check-in is newer than their status (a
    server process stopped between storing a returning device's check-in and
    bringing the device back); returns how many."""
    keys = list(
        Device.objects.filter(
            active=True,
            customer__active=True,
            last_checkin_at__gt=Coalesce("status_changed_at", "created_at"),
        )
        .exclude(status=DeviceStatus.ONLINE)
        .values_list("key_hash", flat=True)[:limit]
    )
    if not keys:
        return 0
    with transaction.atomic():
        return len(come_online_many(keys, timezone.now(), stored=True))


def _claim(key_hashes: Sequence[str], at: dt.datetime, stored: bool) -> list[Returning]:
    """Lock and flip the batch's returning devices to online.

    On PostgreSQL the rows are locked ``SKIP LOCKED``, flipped and their offline
    periods closed in one statement (:func:`_claim_postgresql`); SQLite's
    transactions here take the write lock when they begin (``IMMEDIATE``), so what
    they read cannot change under them, and the flip is a compare-and-set on the
    status read.
    """
    if connection.vendor == "postgresql":
        return _claim_postgresql(key_hashes, at, stored)
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
    flipped = _flip(flips, adapt(at), stored)
    return [d for d in devices if d.id in flipped]


# The advisory lock namespace of devices being brought back (with the device id as
# the second key): one transaction at a time brings a device back.
RETURNING_LOCK = 0x5F_0B_AC
_TO_INT4 = 2147483647
# The late claim's wait for rows that check-in statements hold (each holds them for
# one statement), and how often it tries before the batch is done again with the
# rows locked first.
CLAIM_LOCK_WAIT = "50ms"
CLAIM_TRIES = 40
LOCK_NOT_AVAILABLE = "55P03"


def _claim_postgresql(key_hashes: Sequence[str], at: dt.datetime, stored: bool) -> list[Returning]:
    """The claim in one round trip: lock (``SKIP LOCKED``, id order), flip to online
    with the deadline the check-in sets (``Device.deadline_from``, so the sweeper
    cannot flip the device back before its check-in is stored; a stored check-in
    set it already), close the offline period, and return what the events need as
    the rows were before the flip."""
    quote = connection.ops.quote_name
    device = quote(Device._meta.db_table)
    customer = quote(Device._meta.get_field("customer").related_model._meta.db_table)
    # Identifiers come from model metadata; every value is a parameter.
    returned = """d.id, d.organization_id, d.customer_id, d.public_id, d.name, claimed.status,
        claimed.last_checkin_at, host(claimed.last_ip), d.effective_interval, d.effective_grace,
        claimed.customer_public_id, claimed.customer_name, d.key_hash"""
    sql = f"""
        WITH claimed AS (
            SELECT d.id, d.status, d.last_checkin_at, d.last_ip, c.public_id AS customer_public_id,
                   c.name AS customer_name
            FROM {device} d JOIN {customer} c ON c.id = d.customer_id
            WHERE d.key_hash = ANY(%(keys)s) AND d.active AND c.active AND d.status <> %(online)s
                AND pg_try_advisory_xact_lock(%(space)s, (d.id %% {_TO_INT4})::int)
            ORDER BY d.id
            FOR UPDATE OF d SKIP LOCKED
        ), {_flip_ctes("claimed", "", returned, stored)}
        SELECT * FROM flipped
    """  # noqa: S608
    params = {
        "keys": list(key_hashes),
        "online": DeviceStatus.ONLINE.value,
        "at": at,
        "space": RETURNING_LOCK,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [Returning(*row) for row in cursor.fetchall()]


def _read_returning(key_hashes: Sequence[str]) -> list[Returning]:
    """The batch's returning devices, read without locking their rows (PostgreSQL):
    each is taken by a transaction-scoped advisory lock instead, which another
    transaction bringing it back holds (then it is left to that one).

    The check-ins the batched statement stores meanwhile update these rows; they
    wait only for :func:`_claim_late`, at the end of the transaction."""
    quote = connection.ops.quote_name
    device = quote(Device._meta.db_table)
    customer = quote(Device._meta.get_field("customer").related_model._meta.db_table)
    # Materialized, so the lock is tried only for the rows that qualify.
    sql = f"""
        WITH candidate AS MATERIALIZED (
            SELECT d.id, d.organization_id, d.customer_id, d.public_id, d.name, d.status,
                d.last_checkin_at, host(d.last_ip), d.effective_interval, d.effective_grace,
                c.public_id AS customer_public_id, c.name AS customer_name, d.key_hash
            FROM {device} d JOIN {customer} c ON c.id = d.customer_id
            WHERE d.key_hash = ANY(%(keys)s) AND d.active AND c.active AND d.status <> %(online)s
        )
        SELECT * FROM candidate
        WHERE pg_try_advisory_xact_lock(%(space)s, (id %% {_TO_INT4})::int)
        ORDER BY id
    """  # noqa: S608
    params = {
        "keys": list(key_hashes),
        "online": DeviceStatus.ONLINE.value,
        "space": RETURNING_LOCK,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [Returning(*row) for row in cursor.fetchall()]


def _claim_late(devices: list[Returning], at: dt.datetime, stored: bool) -> None:
    """Flip the devices read by :func:`_read_returning` to online, each only if its
    status is still the one read, and close their offline periods; raises
    :class:`_ClaimLost` when any of them changed (the caller's savepoint then undoes
    the batch).

    The rows are locked in id order, but a batched check-in statement locks them in
    its own order: it may hold one of them while waiting for one locked here, a
    deadlock PostgreSQL breaks only after ``deadlock_timeout`` (a second of stalled
    check-ins). So each try waits ``CLAIM_LOCK_WAIT`` at most, then lets go of what
    it locked (its savepoint) and tries again."""
    device = connection.ops.quote_name(Device._meta.db_table)
    # ``locked`` holds each row as last committed (re-read on locking; a deleted one
    # is missing); ``ok`` tells whether it is still the device read.
    sql = f"""
        WITH r AS (
            SELECT * FROM unnest(%(ids)s::bigint[], %(previous)s::text[]) AS r(id, previous)
        ), locked AS (
            SELECT d.id, d.status = r.previous AND d.active AS ok
            FROM {device} d JOIN r ON r.id = d.id
            ORDER BY d.id FOR UPDATE OF d
        ), {_flip_ctes("locked", " AND locked.ok", "d.id", stored)}
        SELECT count(*) FILTER (WHERE ok) FROM locked
    """  # noqa: S608
    ids = sorted(d.id for d in devices)
    previous = {d.id: d.previous for d in devices}
    params = {
        "ids": ids,
        "previous": [previous[i] for i in ids],
        "online": DeviceStatus.ONLINE.value,
        "at": at,
    }
    for _try in range(CLAIM_TRIES):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{CLAIM_LOCK_WAIT}'")
                cursor.execute(sql, params)
                (unchanged,) = cursor.fetchone()
                cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            continue
        if unchanged != len(ids):  # changed, or deleted, meanwhile
            raise _ClaimLost
        return
    raise _ClaimLost


def _flip_ctes(source: str, condition: str, returning: str, stored: bool) -> str:
    """The two PostgreSQL claims' common end, as CTEs: ``flipped`` turns the devices
    of CTE ``source`` (with ``condition``) online with the deadline the check-in sets
    (``Device.deadline_from``; a stored check-in set it already) and returns
    ``returning``; ``closed`` ends their offline periods."""
    quote = connection.ops.quote_name
    device = quote(Device._meta.db_table)
    period = quote(OfflinePeriod._meta.db_table)
    checked_in = (
        ""
        if stored
        else """, last_checkin_at = %(at)s,
                alert_after = %(at)s
                    + make_interval(secs => d.effective_interval + d.effective_grace)"""
    )
    # Identifiers come from model metadata and this module; values are parameters.
    return f"""flipped AS (
            UPDATE {device} d SET status = %(online)s, status_changed_at = %(at)s{checked_in}
            FROM {source} WHERE d.id = {source}.id{condition}
            RETURNING {returning}
        ), closed AS (
            UPDATE {period} SET ended_at = %(at)s
            WHERE device_id IN (SELECT id FROM flipped) AND ended_at IS NULL
        )"""  # noqa: S608


def _flip(rows: list[tuple], at, stored: bool) -> set[int]:
    """``status = online`` where the status is still the one read (SQLite); returns
    the ids flipped."""
    quote = connection.ops.quote_name
    table = quote(Device._meta.db_table)
    online = DeviceStatus.ONLINE.value
    checked_in = "" if stored else ", last_checkin_at = %s, alert_after = %s"
    sql = (
        f"UPDATE {table} SET status = %s, status_changed_at = %s"  # noqa: S608
        f"{checked_in} WHERE id = %s AND status = %s"
    )
    flipped = set()
    with connection.cursor() as cursor:
        for device_id, status, alert_after in rows:
            times = [] if stored else [at, alert_after]
            cursor.execute(sql, [online, at, *times, device_id, status])
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
                up = say(Say.DEVICE_UP, device=device.name, left=left, total=site.devices_total)
                entries.append(entry_row(site.id, stamp, TimelineKind.DEVICE_UP.value, up))
                data = {**site_data(site, still[site_id] + later), "device_name": device.name}
                per_device[device.id].append(
                    NewEvent("site.device_up", subject, data, occurred_at=at)
                )
                continue
            site.status, site.resolved_at, site.auto_resolved = IncidentStatus.RESOLVED, at, True
            back = say(Say.ALL_BACK, device=device.name)
            entries.append(entry_row(site.id, stamp, TimelineKind.RECOVERED.value, back))
            entries.append(
                entry_row(site.id, stamp, TimelineKind.RESOLVED.value, say(Say.AUTO_RESOLVED))
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
    incidents = _resolve_open_incidents(list(by_id), at)
    if not incidents:
        return
    stamp = connection.ops.adapt_datetimefield_value(at)
    for incident in incidents:
        device = by_id[incident.device_id]
        entries.append(entry_row(incident.id, stamp, TimelineKind.RECOVERED.value, {}))
        entries.append(
            entry_row(incident.id, stamp, TimelineKind.RESOLVED.value, say(Say.AUTO_RESOLVED))
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


def _resolve_open_incidents(device_ids: list[int], at: dt.datetime) -> list[Incident]:
    """Resolve the open incidents of these devices automatically, locked in id order
    (the sweeper's); returns them as resolved (one statement on PostgreSQL)."""
    fields = ["id", "device_id", "public_id", "title", "opened_at", "kind"]
    resolved = {"status": IncidentStatus.RESOLVED.value, "resolved_at": at, "auto_resolved": True}
    if connection.vendor != "postgresql":
        incidents = list(
            Incident.objects.select_for_update(of=("self",))
            .filter(device_id__in=device_ids, status__in=OPEN_STATUSES)
            .order_by("id")
            .only("device", "public_id", "title", "opened_at", "kind")
        )
        Incident.objects.filter(id__in=[i.id for i in incidents]).update(**resolved)
        for incident in incidents:
            incident.status, incident.resolved_at = IncidentStatus.RESOLVED, at
        return incidents
    table = connection.ops.quote_name(Incident._meta.db_table)
    # Identifiers come from model metadata; every value is a parameter.
    sql = f"""
        UPDATE {table} SET status = %(status)s, resolved_at = %(resolved_at)s,
            auto_resolved = %(auto_resolved)s
        WHERE id IN (
            SELECT id FROM {table} WHERE device_id = ANY(%(devices)s) AND status = ANY(%(open)s)
            ORDER BY id FOR UPDATE
        )
        RETURNING {", ".join(fields)}
    """  # noqa: S608
    with connection.cursor() as cursor:
        open_statuses = [status.value for status in OPEN_STATUSES]
        cursor.execute(sql, {**resolved, "devices": device_ids, "open": open_statuses})
        rows = sorted(cursor.fetchall())
    return [Incident(**dict(zip(fields, row, strict=True)), **resolved) for row in rows]
