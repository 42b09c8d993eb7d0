"""When an incident's alert should go out: business hours, maintenance, switches.

Pure decisions over already-loaded rows, so the sweeper can plan thousands of
devices without a query each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q

from sofno.core.windows import WeeklyWindows
from sofno.directory.models import Customer
from sofno.monitoring.models import Device, MaintenanceWindow

# Reasons an alert is held back (stored on the incident, shown on its timeline).
OUTSIDE_HOURS = "outside_business_hours"
MAINTENANCE = "maintenance"
ALERTS_DISABLED = "alerts_disabled"
CUSTOMER_INACTIVE = "customer_inactive"


class Planner:
    """Answers "when may this device's incident alert?" for a batch of devices."""

    def __init__(self, windows: Iterable[MaintenanceWindow]) -> None:
        self._windows = list(windows)
        self._hours: dict[int, WeeklyWindows | None] = {}

    @classmethod
    def for_devices(cls, devices: list[Device], after: dt.datetime) -> Planner:
        """A planner holding the maintenance windows that may matter for ``devices``."""
        device_ids = [d.id for d in devices]
        customer_ids = {d.customer_id for d in devices}
        windows = MaintenanceWindow.objects.filter(ends_at__gt=after).filter(
            Q(device_id__in=device_ids) | Q(customer_id__in=customer_ids)
        )
        return cls(windows)

    def _hours_of(self, customer: Customer) -> WeeklyWindows | None:
        if customer.pk not in self._hours:
            self._hours[customer.pk] = customer.hours()
        return self._hours[customer.pk]

    def in_maintenance(self, device: Device, at: dt.datetime) -> MaintenanceWindow | None:
        """The window covering ``device`` at ``at``, if any."""
        for window in self._windows:
            applies = window.device_id == device.id or window.customer_id == device.customer_id
            if applies and window.covers(at):
                return window
        return None

    def plan(self, device: Device, customer: Customer, at: dt.datetime):
        """``(due_at, reason)``: when the alert may go out, and why not at ``at``.

        - Alerts off for the customer, or the customer inactive: ``(None, reason)``.
        - Inside a maintenance window: at its end (then re-checked).
        - Outside business hours: when they next start (then re-checked).
        """
        if not customer.active:
            return None, CUSTOMER_INACTIVE
        if not customer.alerts_enabled:
            return None, ALERTS_DISABLED
        hours = self._hours_of(customer)
        moment, reason = at, ""
        for _ in range(64):  # bounded: windows and hours cannot chain forever
            moved = False
            window = self.in_maintenance(device, moment)
            if window is not None:
                moment, moved = window.ends_at, True
                reason = reason or MAINTENANCE
            if hours is not None and not hours.contains(moment):
                next_open = hours.next_start(moment)
                if next_open is None:
                    return None, OUTSIDE_HOURS
                moment, moved = next_open, True
                reason = reason or OUTSIDE_HOURS
            if not moved:
                return moment, reason
        return moment, reason
