"""Devices, their keys, POS software and inherited timing."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sofno.core.access import Actor
from sofno.core.modeling import apply_fields, save_audited, save_validated
from sofno.core.models import Membership, Organization, Role, hash_secret
from sofno.core.usernames import named_q
from sofno.directory.models import Customer
from sofno.events.emit import emit
from sofno.monitoring.actions.payloads import device_data, subject_of
from sofno.monitoring.errors import field_error
from sofno.monitoring.models import (
    BUILTIN_POS,
    DEVICE_KEY_PREFIX,
    CustomerMonitoring,
    Device,
    DeviceStatus,
    MonitoringDefaults,
    PosSoftware,
)

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

DEVICE_FIELDS = {
    "name",
    "os",
    "pos_software",
    "description",
    "active",
    "checkin_interval",
    "grace",
    "installed_by",
}


def installer_named(actor: Actor, value: str | None):
    """The staff member a device's ``installed_by`` names (member id or username), or
    ``None`` for empty; anyone else is an ``installed_by`` error."""
    if not value:
        return None
    members = Membership.objects.filter(organization=actor.organization).exclude(role=Role.CUSTOMER)
    try:
        found = members.filter(public_id=uuid.UUID(str(value))).first()
    except ValueError:
        found = members.filter(named_q(value, "user__username")).first()
    if found is None:
        raise field_error("installed_by", "not a staff member of the organization", "unknown")
    return found.user


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
    apply_fields(device, fields, allowed=DEVICE_FIELDS)
    _check_pos(acting_user.organization, device.pos_software)
    device.effective_interval, device.effective_grace = effective_timing(device)
    # The inherited timing is ours, not the client's: one bad interval is one error.
    save_audited(
        acting_user, device, "device.created", exclude=Device.DEADLINE_FIELDS, name=device.name
    )
    emit(acting_user.organization, "device.created", subject_of(device), device_data(device))
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
    changed = apply_fields(device, fields, allowed=DEVICE_FIELDS)
    _check_pos(acting_user.organization, device.pos_software)
    if not device.active and device.status != DeviceStatus.PAUSED:
        device.status, device.status_changed_at, device.alert_after = (
            DeviceStatus.PAUSED,
            timezone.now(),
            None,
        )
    changed += ["customer"] if customer is not None else []
    save_audited(acting_user, device, "device.updated", fields=changed)
    _refresh_timing([device])
    emit(
        acting_user.organization,
        "device.updated",
        subject_of(device),
        {**device_data(device), "fields": changed},
    )
    return device


@transaction.atomic
def delete_device(*, acting_user: Actor, device: Device) -> None:
    """Delete a device with its history."""
    acting_user.require_write()
    acting_user.audit("device.deleted", device, name=device.name)
    emit(acting_user.organization, "device.deleted", subject_of(device), device_data(device))
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
def set_defaults(*, acting_user: Actor, fields: dict[str, Any]) -> MonitoringDefaults:
    """Change the organization's interval, grace and flap window; devices follow."""
    acting_user.require_admin()
    found = defaults_for(acting_user.organization)
    apply_fields(found, fields)
    save_audited(acting_user, found, "monitoring.defaults_changed", **fields)
    _refresh_timing(Device.objects.filter(organization=acting_user.organization))
    return found


@transaction.atomic
def set_customer_monitoring(
    *, acting_user: Actor, customer: Customer, fields: dict[str, Any]
) -> CustomerMonitoring:
    """Override interval and grace for one customer's devices."""
    acting_user.require_write()
    found, _ = CustomerMonitoring.objects.get_or_create(customer=customer)
    apply_fields(found, fields)
    save_validated(found)
    _refresh_timing(Device.objects.filter(customer=customer))
    acting_user.audit("monitoring.customer_changed", customer, **fields)
    return found


def touch_pending(device_id: int, delta: int) -> None:
    """Adjust the hot path's count of commands waiting for a device."""
    Device.objects.filter(pk=device_id).update(pending_commands=F("pending_commands") + delta)
