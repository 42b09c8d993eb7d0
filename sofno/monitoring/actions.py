"""Changes to devices, incidents and maintenance: atomic, audited, emitting events."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from sofno.core.access import Actor
from sofno.core.models import Organization, hash_secret
from sofno.directory.models import Customer
from sofno.events.emit import NewEvent, emit, emit_many
from sofno.monitoring.alerts import ALERTS_DISABLED, CUSTOMER_INACTIVE, Planner
from sofno.monitoring.errors import field_error
from sofno.monitoring.models import (
    BUILTIN_POS,
    DEFAULT_FLAP_WINDOW,
    DEVICE_KEY_PREFIX,
    ENROLL_TOKEN_PREFIX,
    OPEN_STATUSES,
    CustomerMonitoring,
    Device,
    DeviceStatus,
    Incident,
    IncidentEntry,
    IncidentStatus,
    MaintenanceWindow,
    MonitoringDefaults,
    OfflinePeriod,
    PosSoftware,
    TimelineKind,
)

SYSTEM = "SOFNO"


# --- payloads -----------------------------------------------------------------------


def device_data(device: Device) -> dict[str, Any]:
    """The tokens every device event carries."""
    customer = device.customer
    return {
        "device_id": str(device.public_id),
        "device_name": device.name,
        "customer_id": str(customer.public_id),
        "customer_name": customer.name,
        "status": device.status,
        "last_checkin_at": device.last_checkin_at.isoformat() if device.last_checkin_at else None,
        "last_ip": device.last_ip,
    }


def incident_data(incident: Incident, device: Device) -> dict[str, Any]:
    """The tokens every incident event carries."""
    return {
        **device_data(device),
        "incident_id": str(incident.public_id),
        "incident_status": incident.status,
        "title": incident.title,
        "opened_at": incident.opened_at.isoformat(),
    }


def _subject(device: Device) -> str:
    return f"device:{device.public_id}"


def _actor_label(actor: Actor) -> str:
    if actor.user is not None:
        return actor.user.get_username()
    if actor.api_key is not None:
        return f"API key {actor.api_key.name}"
    return SYSTEM


# --- keys and inheritance -----------------------------------------------------------


def new_device_key() -> str:
    """A random device key (shown once; only its hash is stored)."""
    return DEVICE_KEY_PREFIX + secrets.token_urlsafe(32)


def defaults_for(organization: Organization) -> MonitoringDefaults:
    """The organization's monitoring defaults (created on first use)."""
    found, _ = MonitoringDefaults.objects.get_or_create(organization=organization)
    return found


def effective_timing(device: Device) -> tuple[int, int]:
    """``(interval, grace)`` in seconds, inheriting organization -> customer -> device."""
    org = defaults_for(device.organization)
    customer = CustomerMonitoring.objects.filter(customer_id=device.customer_id).first()
    interval, grace = org.checkin_interval, org.grace
    if customer is not None:
        interval = customer.checkin_interval or interval
        grace = customer.grace if customer.grace is not None else grace
    interval = device.checkin_interval or interval
    grace = device.grace if device.grace is not None else grace
    return interval, grace


def _refresh_timing(devices) -> None:
    """Recompute inherited timing and the deadline of online devices."""
    for device in devices:
        interval, grace = effective_timing(device)
        if (interval, grace) == (device.effective_interval, device.effective_grace):
            continue
        device.effective_interval, device.effective_grace = interval, grace
        if device.status == DeviceStatus.ONLINE and device.last_checkin_at:
            device.alert_after = device.deadline_from(device.last_checkin_at)
        device.save(update_fields=["effective_interval", "effective_grace", "alert_after"])


def pos_choices(organization: Organization) -> list[tuple[str, str]]:
    """Built-in POS software plus the organization's own."""
    own = PosSoftware.objects.filter(organization=organization).values_list("slug", "name")
    return [(slug, str(name)) for slug, name in BUILTIN_POS] + list(own)


@transaction.atomic
def add_pos_software(*, acting_user: Actor, slug: str, name: str) -> PosSoftware:
    """Extend the organization's POS software choices (admins)."""
    acting_user.require_admin()
    if slug in {s for s, _ in pos_choices(acting_user.organization)}:
        raise field_error("slug", f"{slug!r} is already a choice", "unique")
    entry = PosSoftware.objects.create(organization=acting_user.organization, slug=slug, name=name)
    acting_user.audit("pos_software.added", entry, slug=slug)
    return entry


@transaction.atomic
def remove_pos_software(*, acting_user: Actor, entry: PosSoftware) -> None:
    """Remove one of the organization's own POS software choices (admins); refused
    while a device still names it, so no device is left with an unknown choice."""
    acting_user.require_admin()
    used = Device.objects.filter(organization=acting_user.organization, pos_software=entry.slug)
    if used.exists():
        raise field_error(
            "slug",
            f"{entry.slug!r} is still the POS software of {used.count()} device(s)",
            "in_use",
        )
    acting_user.audit("pos_software.removed", entry, slug=entry.slug)
    entry.delete()


def _check_pos(organization: Organization, slug: str) -> None:
    if slug and slug not in {s for s, _ in pos_choices(organization)}:
        raise field_error("pos_software", f"unknown POS software {slug!r}", "unknown")


# --- devices ------------------------------------------------------------------------

DEVICE_FIELDS = {"name", "os", "pos_software", "description", "active", "checkin_interval", "grace"}


def _apply(device: Device, fields: dict[str, Any]) -> None:
    unknown = set(fields) - DEVICE_FIELDS
    if unknown:
        raise field_error(sorted(unknown)[0], "unknown field", "unknown")
    for name, value in fields.items():
        setattr(device, name, value)


@transaction.atomic
def create_device(
    *, acting_user: Actor, customer: Customer, fields: dict[str, Any]
) -> tuple[Device, str]:
    """Create a device for a customer; returns it with its key, which is never stored."""
    acting_user.require_write()
    if customer.organization_id != acting_user.organization.pk:
        raise field_error("customer", "unknown customer", "unknown")
    plain = new_device_key()
    device = Device(
        organization=acting_user.organization,
        customer=customer,
        key_prefix=plain[:10],
        key_hash=hash_secret(plain),
    )
    _apply(device, fields)
    _check_pos(acting_user.organization, device.pos_software)
    device.full_clean()
    device.effective_interval, device.effective_grace = effective_timing(device)
    device.save()
    acting_user.audit("device.created", device, name=device.name)
    emit(acting_user.organization, "device.created", _subject(device), device_data(device))
    return device, plain


@transaction.atomic
def update_device(*, acting_user: Actor, device: Device, fields: dict[str, Any]) -> Device:
    """Change a device; turning ``active`` off pauses it (its check-ins are refused)."""
    acting_user.require_write()
    customer = fields.pop("customer", None)
    if customer is not None:
        if customer.organization_id != acting_user.organization.pk:
            raise field_error("customer", "unknown customer", "unknown")
        device.customer = customer
    _apply(device, fields)
    _check_pos(acting_user.organization, device.pos_software)
    device.full_clean()
    if not device.active and device.status != DeviceStatus.PAUSED:
        device.status, device.status_changed_at, device.alert_after = (
            DeviceStatus.PAUSED,
            timezone.now(),
            None,
        )
    device.save()
    _refresh_timing([device])
    changed = sorted(fields) + (["customer"] if customer is not None else [])
    acting_user.audit("device.updated", device, fields=changed)
    emit(
        acting_user.organization,
        "device.updated",
        _subject(device),
        {**device_data(device), "fields": changed},
    )
    return device


@transaction.atomic
def delete_device(*, acting_user: Actor, device: Device) -> None:
    """Delete a device with its history."""
    acting_user.require_write()
    acting_user.audit("device.deleted", device, name=device.name)
    emit(acting_user.organization, "device.deleted", _subject(device), device_data(device))
    device.delete()


@transaction.atomic
def rotate_device_key(*, acting_user: Actor, device: Device) -> str:
    """Give a device a new key; the old one stops working at once."""
    acting_user.require_write()
    plain = new_device_key()
    device.key_prefix, device.key_hash = plain[:10], hash_secret(plain)
    device.save(update_fields=["key_prefix", "key_hash", "updated_at"])
    acting_user.audit("device.key_rotated", device)
    return plain


@transaction.atomic
@transaction.atomic
def set_defaults(*, acting_user: Actor, fields: dict[str, Any]) -> MonitoringDefaults:
    """Change the organization's interval, grace and flap window; devices follow."""
    acting_user.require_admin()
    found = defaults_for(acting_user.organization)
    for name, value in fields.items():
        setattr(found, name, value)
    found.full_clean()
    found.save()
    _refresh_timing(Device.objects.filter(organization=acting_user.organization))
    acting_user.audit("monitoring.defaults_changed", found, **fields)
    return found


@transaction.atomic
def set_customer_monitoring(
    *, acting_user: Actor, customer: Customer, fields: dict[str, Any]
) -> CustomerMonitoring:
    """Override interval and grace for one customer's devices."""
    acting_user.require_write()
    found, _ = CustomerMonitoring.objects.get_or_create(customer=customer)
    for name, value in fields.items():
        setattr(found, name, value)
    found.full_clean()
    found.save()
    _refresh_timing(Device.objects.filter(customer=customer))
    acting_user.audit("monitoring.customer_changed", customer, **fields)
    return found


@transaction.atomic
def rotate_enrollment_token(*, acting_user: Actor, customer: Customer) -> str:
    """A new enrollment token for the customer's agents (shown once)."""
    acting_user.require_write()
    plain = ENROLL_TOKEN_PREFIX + secrets.token_urlsafe(24)
    found, _ = CustomerMonitoring.objects.get_or_create(customer=customer)
    found.enrollment_token_hash = hash_secret(plain)
    found.enrollment_token_prefix = plain[:10]
    found.save(update_fields=["enrollment_token_hash", "enrollment_token_prefix"])
    acting_user.audit("monitoring.enrollment_token_rotated", customer)
    return plain


class EnrollmentRefused(Exception):
    """The token is unknown (``status`` 401) or its customer is inactive (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@transaction.atomic
def enroll(*, token: str, name: str, os: str, facts: dict[str, Any]) -> tuple[Device, str]:
    """An agent registers itself with its customer's enrollment token."""
    if not token.startswith(ENROLL_TOKEN_PREFIX):
        raise EnrollmentRefused(401, "Unknown enrollment token.")
    found = (
        CustomerMonitoring.objects.select_related("customer__organization")
        .filter(enrollment_token_hash=hash_secret(token))
        .first()
    )
    if found is None:
        raise EnrollmentRefused(401, "Unknown enrollment token.")
    customer = found.customer
    if not customer.active:
        raise EnrollmentRefused(403, customer.refusal_message)
    actor = Actor(organization=customer.organization, role="admin")
    device, plain = create_device(
        acting_user=actor,
        customer=customer,
        fields={"name": name[:200] or "device", "os": os, "description": ""},
    )
    if facts:
        device.facts = facts
        device.save(update_fields=["facts"])
    return device, plain


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
    """
    table = connection.ops.quote_name(Device._meta.db_table)
    lock = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    adapt = connection.ops.adapt_datetimefield_value
    # Identifiers come from model metadata; every value is a parameter.
    sql = (
        f"WITH claimed AS MATERIALIZED (SELECT id FROM {table} "  # noqa: S608
        f"WHERE status = %s AND alert_after <= %s ORDER BY alert_after LIMIT %s{lock}) "
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


def _insert(model, columns: list[str], rows: list[tuple], returning: str = "") -> list[tuple]:
    """One ``INSERT`` of many rows of already adapted values (no model instances).

    On PostgreSQL the rows travel as one JSON parameter expanded by
    ``json_populate_recordset``: quoting one string is far cheaper than binding
    thousands of parameters (or text arrays) with client-side binding.
    """
    if not rows:
        return []
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    # Identifiers come from model metadata; every value is a parameter.
    if connection.vendor == "postgresql":
        sql = f"INSERT INTO {table} ({names}) SELECT {names} FROM json_populate_recordset(NULL::{table}, %s)"  # noqa: E501, S608
        params = [json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str)]
    else:
        # SQLite caps the parameters of one statement (32,766): insert in chunks.
        size = max(1, 30_000 // len(columns))
        if len(rows) > size:
            return [
                found
                for start in range(0, len(rows), size)
                for found in _insert(model, columns, rows[start : start + size], returning)
            ]
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(rows))}"  # noqa: S608
        params = [value for row in rows for value in row]
    if returning:
        sql += f" RETURNING {returning}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


def sweep_offline(now: dt.datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Flip online devices past their deadline to offline; returns how many.

    - Claims a batch in one compare-and-set statement (with ``SKIP LOCKED`` on
      PostgreSQL) so several workers share the work and none flips a device twice.
    - Opens an offline period and an incident per device, or re-opens the device's
      incident resolved within the flap window (one incident, not a storm).
    - Emits ``device.offline``, ``incident.opened`` (and ``incident.alert`` when the
      alert is due now) in the same transaction.
    """
    now = now or timezone.now()
    with transaction.atomic():
        claimed = _claim(now, limit)
        if not claimed:
            return 0
        _open_incidents(claimed, now)
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


def _entry(incident: Incident, at: dt.datetime, kind: str, message: str = "") -> IncidentEntry:
    return IncidentEntry(incident=incident, at=at, kind=kind, message=message, actor_label=SYSTEM)


def _open_incidents(devices: list[_Flipped], now: dt.datetime) -> None:
    """Offline periods, incidents, timeline rows and events for freshly flipped devices,
    each written with one statement per batch."""
    flap = _flap_windows({d.organization_id for d in devices})
    recent = _recent_incidents(devices, now, flap)
    customers = Customer.objects.in_bulk({d.customer_id for d in devices})
    orgs = Organization.objects.in_bulk({d.organization_id for d in devices})
    planner = Planner.for_devices(devices, devices[0].since)
    adapt = connection.ops.adapt_datetimefield_value
    native_uuid = connection.features.has_native_uuid_field
    _insert(
        OfflinePeriod,
        ["organization_id", "device_id", "started_at"],
        [(d.organization_id, d.id, adapt(d.since)) for d in devices],
    )
    fresh: list[Incident] = []
    touched: list[Incident] = []
    kinds: dict[int, str] = {}
    for device in devices:
        since, customer = device.since, customers[device.customer_id]
        incident = recent.get(device.id)
        if incident is not None and incident.is_open:
            kinds[device.id] = ""  # already open (acknowledged, say): nothing new to say
        elif incident is not None and incident.resolved_at >= since - dt.timedelta(
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
                status=IncidentStatus.OPEN,
                title=f"{device.name} ({customer.name}) is offline",
                opened_at=since,
            )
            kinds[device.id] = TimelineKind.OPENED
            fresh.append(incident)
        recent[device.id] = incident
        if incident.alerted_at is None:
            due, reason = planner.plan(device, customer, since)
            incident.suppressed_reason = reason
            incident.alert_due_at = due
            if due is not None and due <= now:
                incident.alerted_at = now
    made = _insert(
        Incident,
        [
            "organization_id",
            "public_id",
            "device_id",
            "status",
            "title",
            "opened_at",
            "auto_resolved",
            "alert_due_at",
            "alerted_at",
            "suppressed_reason",
            "flaps",
        ],
        [
            (
                i.organization_id,
                i.public_id if native_uuid else i.public_id.hex,
                i.device_id,
                i.status,
                i.title,
                adapt(i.opened_at),
                False,
                adapt(i.alert_due_at),
                adapt(i.alerted_at),
                i.suppressed_reason,
                0,
            )
            for i in fresh
        ],
        returning="id, device_id",
    )
    for incident_id, device_id in made:
        recent[device_id].id = incident_id
    for incident in touched:  # few: only flapping devices
        incident.save(
            update_fields=[
                "status",
                "resolved_at",
                "resolved_by",
                "auto_resolved",
                "flaps",
                "alert_due_at",
                "alerted_at",
                "suppressed_reason",
            ]
        )
    entries: list[tuple] = []
    events: dict[int, list[NewEvent]] = defaultdict(list)
    at = adapt(now)
    opened_message = "No check-in since the deadline."
    for device in devices:
        incident, kind = recent[device.id], kinds[device.id]
        since, customer = device.since, customers[device.customer_id]
        data = {
            "device_id": str(device.public_id),
            "device_name": device.name,
            "customer_id": str(customer.public_id),
            "customer_name": customer.name,
            "status": DeviceStatus.OFFLINE.value,
            "last_checkin_at": device.last_checkin_at.isoformat()
            if device.last_checkin_at
            else None,
            "last_ip": device.last_ip,
            "incident_id": str(incident.public_id),
            "incident_status": incident.status,
            "title": incident.title,
            "opened_at": incident.opened_at.isoformat(),
        }
        subject = f"device:{device.public_id}"
        batch = events[device.organization_id]
        batch.append(NewEvent("device.offline", subject, data, occurred_at=since))
        if kind == TimelineKind.OPENED:
            entries.append((incident.id, at, kind, opened_message, SYSTEM))
            batch.append(NewEvent("incident.opened", subject, data, occurred_at=since))
        elif kind == TimelineKind.REOPENED:
            message = f"Offline again (flap {incident.flaps})."
            entries.append((incident.id, at, kind, message, SYSTEM))
        if not kind or incident.alerted_at not in (None, now):
            continue
        if incident.alerted_at == now:
            entries.append((incident.id, at, TimelineKind.ALERT.value, "", SYSTEM))
            batch.append(NewEvent("incident.alert", subject, data, occurred_at=now))
        else:
            due = incident.alert_due_at
            message = f"{incident.suppressed_reason}; due {due.isoformat() if due else 'never'}"
            entries.append((incident.id, at, TimelineKind.SUPPRESSED.value, message, SYSTEM))
    _insert(IncidentEntry, ["incident_id", "at", "kind", "message", "actor_label"], entries)
    for org_id, batch in events.items():
        emit_many(orgs[org_id], batch)


def send_due_alerts(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Send alerts held back by business hours or maintenance once they are due.

    Re-checks the rules first (a window may have been extended); claims each alert
    by compare-and-set on ``alerted_at`` so two workers never send it twice.
    """
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        due = list(
            Incident.objects.select_related("device__customer", "organization")
            .filter(status=IncidentStatus.OPEN, alerted_at__isnull=True, alert_due_at__lte=now)
            .order_by("alert_due_at")[:limit]
        )
        if not due:
            return 0
        planner = Planner.for_devices([i.device for i in due], now)
        for incident in due:
            device = incident.device
            when, reason = planner.plan(device, device.customer, now)
            if when is None or when > now:
                Incident.objects.filter(pk=incident.pk, alerted_at__isnull=True).update(
                    alert_due_at=when, suppressed_reason=reason
                )
                continue
            claimed = Incident.objects.filter(pk=incident.pk, alerted_at__isnull=True).update(
                alerted_at=now
            )
            if not claimed:
                continue
            IncidentEntry.objects.create(
                incident=incident,
                at=now,
                kind=TimelineKind.ALERT,
                actor_label=SYSTEM,
                message="Held back until now.",
            )
            emit(
                incident.organization,
                "incident.alert",
                _subject(device),
                incident_data(incident, device),
                occurred_at=now,
            )
            sent += 1
    return sent


def replan_held_alerts(customer_ids: list[str], now: dt.datetime | None = None) -> int:
    """Plan again the alerts held back because a customer's alerts were off (or the
    customer inactive), for open incidents that have not alerted; returns how many
    now have an alert due (sent by :func:`send_due_alerts` when due).

    Called when a customer's ``alerts_enabled`` or ``active`` changes. Each incident
    is updated by compare-and-set on ``alerted_at`` so a concurrent send wins.
    """
    now = now or timezone.now()
    planned = 0
    with transaction.atomic():
        held = list(
            Incident.objects.select_related("device__customer")
            .filter(
                device__customer__public_id__in=customer_ids,
                status=IncidentStatus.OPEN,
                alerted_at__isnull=True,
                suppressed_reason__in=[ALERTS_DISABLED, CUSTOMER_INACTIVE],
            )
            .order_by("opened_at")
        )
        if not held:
            return 0
        planner = Planner.for_devices([i.device for i in held], now)
        entries = []
        for incident in held:
            device = incident.device
            due, reason = planner.plan(device, device.customer, now)
            if reason == incident.suppressed_reason:
                continue  # still off: nothing changed for this one
            updated = Incident.objects.filter(pk=incident.pk, alerted_at__isnull=True).update(
                alert_due_at=due, suppressed_reason=reason
            )
            if not updated:
                continue
            # Still held (outside hours, maintenance): say until when.
            when = due.isoformat() if due else "never"
            message = f"Alerts on again; {reason}; due {when}" if reason else "Alerts on again."
            entries.append(_entry(incident, now, TimelineKind.SUPPRESSED, message))
            planned += due is not None
        IncidentEntry.objects.bulk_create(entries)
    return planned


# --- coming back online -------------------------------------------------------------


def come_online(device: Device, at: dt.datetime) -> bool:
    """Mark a new, offline or paused device online (in the caller's transaction).

    Closes its offline period, resolves its open incident automatically and emits
    ``device.online`` / ``incident.resolved``. Returns False when another request
    already did it (compare-and-set on the old status).
    """
    old = device.status
    changed = Device.objects.filter(pk=device.pk, status=old).update(
        status=DeviceStatus.ONLINE,
        status_changed_at=at,
    )
    if not changed:
        return False
    device.status, device.status_changed_at = DeviceStatus.ONLINE, at
    OfflinePeriod.objects.filter(device=device, ended_at__isnull=True).update(ended_at=at)
    data = device_data(device)
    emit(
        device.organization,
        "device.online",
        _subject(device),
        {**data, "previous": old},
        occurred_at=at,
    )
    incident = Incident.objects.filter(device=device, status__in=OPEN_STATUSES).first()
    if incident is not None:
        Incident.objects.filter(pk=incident.pk).update(
            status=IncidentStatus.RESOLVED, resolved_at=at, auto_resolved=True
        )
        incident.status, incident.resolved_at = IncidentStatus.RESOLVED, at
        IncidentEntry.objects.bulk_create(
            [
                IncidentEntry(
                    incident=incident, at=at, kind=TimelineKind.RECOVERED, actor_label=SYSTEM
                ),
                IncidentEntry(
                    incident=incident,
                    at=at,
                    kind=TimelineKind.RESOLVED,
                    message="Resolved automatically on recovery.",
                    actor_label=SYSTEM,
                ),
            ]
        )
        emit(
            device.organization,
            "incident.resolved",
            _subject(device),
            {**incident_data(incident, device), "auto": True},
            occurred_at=at,
        )
    return True


# --- incidents by people ------------------------------------------------------------


@transaction.atomic
def acknowledge_incident(*, acting_user: Actor, incident: Incident, note: str = "") -> Incident:
    """Someone is on it: stops the alert from going out if it has not yet."""
    acting_user.require_write()
    now = timezone.now()
    changed = Incident.objects.filter(pk=incident.pk, status=IncidentStatus.OPEN).update(
        status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=acting_user.user
    )
    if not changed:
        raise field_error("status", "only an open incident can be acknowledged", "state")
    incident.refresh_from_db()
    IncidentEntry.objects.create(
        incident=incident,
        at=now,
        kind=TimelineKind.ACKNOWLEDGED,
        message=note[:300],
        user=acting_user.user,
        actor_label=_actor_label(acting_user),
    )
    acting_user.audit("incident.acknowledged", incident)
    device = incident.device
    emit(
        acting_user.organization,
        "incident.acknowledged",
        _subject(device),
        {**incident_data(incident, device), "by": _actor_label(acting_user)},
    )
    return incident


@transaction.atomic
def resolve_incident(*, acting_user: Actor, incident: Incident, note: str = "") -> Incident:
    """Close an incident by hand (the device may still be offline)."""
    acting_user.require_write()
    now = timezone.now()
    changed = Incident.objects.filter(pk=incident.pk, status__in=OPEN_STATUSES).update(
        status=IncidentStatus.RESOLVED,
        resolved_at=now,
        resolved_by=acting_user.user,
        auto_resolved=False,
    )
    if not changed:
        raise field_error("status", "the incident is already resolved", "state")
    incident.refresh_from_db()
    IncidentEntry.objects.create(
        incident=incident,
        at=now,
        kind=TimelineKind.RESOLVED,
        message=note[:300],
        user=acting_user.user,
        actor_label=_actor_label(acting_user),
    )
    acting_user.audit("incident.resolved", incident)
    device = incident.device
    emit(
        acting_user.organization,
        "incident.resolved",
        _subject(device),
        {**incident_data(incident, device), "auto": False, "by": _actor_label(acting_user)},
    )
    return incident


# --- maintenance --------------------------------------------------------------------


@transaction.atomic
def create_maintenance(
    *,
    acting_user: Actor,
    reason: str,
    device: Device | None = None,
    customer: Customer | None = None,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime,
) -> MaintenanceWindow:
    """A maintenance window for one device or all of a customer's; immediate when
    ``starts_at`` is empty."""
    acting_user.require_write()
    if (device is None) == (customer is None):
        raise field_error("device", "give either a device or a customer", "target")
    window = MaintenanceWindow(
        organization=acting_user.organization,
        device=device,
        customer=customer,
        starts_at=starts_at or timezone.now(),
        ends_at=ends_at,
        reason=reason,
        created_by=acting_user.user,
    )
    if window.ends_at <= window.starts_at:
        raise field_error("ends_at", "must be after starts_at", "order")
    window.full_clean()
    window.save()
    acting_user.audit("maintenance.created", window, reason=reason)
    return window


@transaction.atomic
def end_maintenance(*, acting_user: Actor, window: MaintenanceWindow) -> MaintenanceWindow:
    """End a window now; held-back alerts of still-offline devices become due now."""
    acting_user.require_write()
    now = timezone.now()
    if window.ends_at > now:
        window.ends_at = max(now, window.starts_at + dt.timedelta(microseconds=1))
        window.save(update_fields=["ends_at"])
        devices = Device.objects.filter(
            Q(pk=window.device_id) if window.device_id else Q(customer_id=window.customer_id)
        )
        Incident.objects.filter(
            device__in=devices,
            status=IncidentStatus.OPEN,
            alerted_at__isnull=True,
            alert_due_at__gt=now,
        ).update(alert_due_at=now)
    acting_user.audit("maintenance.ended", window)
    return window


def touch_pending(device_id: int, delta: int) -> None:
    """Adjust the hot path's count of commands waiting for a device."""
    Device.objects.filter(pk=device_id).update(pending_commands=F("pending_commands") + delta)
