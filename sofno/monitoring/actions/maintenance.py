"""Maintenance windows of a device or of all of a customer's devices."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from sofno.core.access import Actor
from sofno.core.modeling import save_audited
from sofno.directory.models import Customer
from sofno.events.emit import emit
from sofno.monitoring.errors import field_error
from sofno.monitoring.models import Device, MaintenanceWindow

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
    save_audited(acting_user, window, "maintenance.created", reason=reason)
    emit(acting_user.organization, "maintenance.created", _subject(window), _data(window))
    return window


@transaction.atomic
def end_maintenance(*, acting_user: Actor, window: MaintenanceWindow) -> MaintenanceWindow:
    """End a window now. Emits ``maintenance.ended``: the notification policy then
    sends what it held for the window, if still true (devices still offline)."""
    acting_user.require_write()
    now = timezone.now()
    if window.ends_at > now:
        window.ends_at = max(now, window.starts_at + dt.timedelta(microseconds=1))
        window.save(update_fields=["ends_at"])
        emit(acting_user.organization, "maintenance.ended", _subject(window), _data(window))
    acting_user.audit("maintenance.ended", window)
    return window


def _subject(window: MaintenanceWindow) -> str:
    if window.device_id:
        return f"device:{window.device.public_id}"
    return f"customer:{window.customer.public_id}"


def _data(window: MaintenanceWindow) -> dict:
    """The tokens of a maintenance event."""
    device = window.device
    customer = device.customer if device is not None else window.customer
    return {
        "maintenance_id": str(window.public_id),
        "device_id": str(device.public_id) if device is not None else "",
        "device_name": device.name if device is not None else "",
        "customer_id": str(customer.public_id),
        "customer_name": customer.name,
        "reason": window.reason,
        "starts_at": window.starts_at.isoformat(),
        "ends_at": window.ends_at.isoformat(),
    }
