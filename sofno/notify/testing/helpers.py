"""Small builders shared by the notification tests (not fixtures: plain functions)."""

from __future__ import annotations

import datetime as dt

import time_machine

from sofno.core.access import Actor
from sofno.directory.models import Customer, StaffProfile
from sofno.monitoring import actions, checkin
from sofno.monitoring.models import Incident
from sofno.notify.models import NotificationRule
from sofno.notify.routing import dispatcher

# A Monday inside business hours, for tests that move the clock.
MONDAY_10 = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)


def owner(cast) -> Actor:
    return Actor(organization=cast.org, role="owner", user=cast.owner)


def device_with_incident(cast, customer: Customer | None = None, name: str = "Till 1"):
    """A device of a new (or given) customer, with an open incident."""
    customer = customer or Customer.objects.create(organization=cast.org, name="Pizzeria Roma")
    device, _key = actions.create_device(
        acting_user=owner(cast), customer=customer, fields={"name": name}
    )
    incident = Incident.objects.create(
        organization=cast.org, device=device, title=f"{name} ({customer.name}) is offline"
    )
    return device, incident


def set_profile(user, **fields):
    """Set fields of a person's staff profile (created with the membership)."""
    profile, _created = StaffProfile.objects.update_or_create(user=user, defaults=fields)
    return profile


def silence_a_site(cast, customer: Customer, *, rule: str, channels: list[str]) -> None:
    """Two tills of ``customer`` check in, then both fall silent: the sweep opens one
    site incident, whose ``incident.alert`` a rule named ``rule`` sends to the agent on
    ``channels``; the dispatcher has planned its deliveries when this returns."""
    keys = []
    for n in (1, 2):
        _device, key = actions.create_device(
            acting_user=owner(cast),
            customer=customer,
            fields={"name": f"Till {n}", "checkin_interval": 60, "grace": 30},
        )
        keys.append(key)
    with time_machine.travel(MONDAY_10, tick=False):
        NotificationRule.objects.create(
            organization=cast.org,
            name=rule,
            event_types=["incident.alert"],
            recipients=[{"kind": "user", "value": cast.agent.username}],
            channels=channels,
        )
        for key in keys:
            checkin.handle(key, None, None)
    with time_machine.travel(MONDAY_10 + dt.timedelta(seconds=91), tick=False):
        actions.sweep_offline()
        while dispatcher.dispatch_organization(cast.org.pk):
            pass
