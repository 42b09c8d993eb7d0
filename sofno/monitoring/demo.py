"""Sample devices for ``sofno demo``."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from sofno.core.access import Actor
from sofno.directory.models import Customer
from sofno.monitoring import actions
from sofno.monitoring.models import CommandKind, CommandTemplate, DeviceStatus


def seed(organization, owner) -> None:
    """A few devices per demo customer, some online, one offline."""
    actor = Actor(organization=organization, role="owner", user=owner)
    now = timezone.now()
    CommandTemplate.objects.get_or_create(
        organization=organization,
        name="Restart print spooler",
        defaults={"kind": CommandKind.RESTART_SERVICE, "argument": "spooler"},
    )
    CommandTemplate.objects.get_or_create(
        organization=organization,
        name="Collect system logs",
        defaults={"kind": CommandKind.COLLECT_LOGS, "argument": "system"},
    )
    for index, customer in enumerate(Customer.objects.filter(organization=organization)[:5]):
        for number in (1, 2):
            device, _ = actions.create_device(
                acting_user=actor,
                customer=customer,
                fields={"name": f"{customer.name} till {number}", "os": "windows"},
            )
            seen = now - dt.timedelta(seconds=30 if (index + number) % 4 else 3600)
            device.last_checkin_at = seen
            device.alert_after = device.deadline_from(seen)
            device.status = DeviceStatus.ONLINE
            device.last_ip = "127.0.0.1"
            device.local_network = True
            device.save()
