"""Maintenance windows of a device or of all of a customer's devices."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sofno.core.access import Actor
from sofno.directory.models import Customer
from sofno.monitoring.errors import field_error
from sofno.monitoring.models import Device, Incident, IncidentStatus, MaintenanceWindow

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
