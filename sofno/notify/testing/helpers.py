"""Small builders shared by the notification tests (not fixtures: plain functions)."""

from __future__ import annotations

from sofno.core.access import Actor
from sofno.directory.models import Customer, StaffProfile
from sofno.monitoring import actions
from sofno.monitoring.models import Incident


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
