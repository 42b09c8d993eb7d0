"""Queries over monitoring, always scoped to what an actor may see."""

from __future__ import annotations

from django.db.models import QuerySet

from sofno.core.access import Actor
from sofno.core.scoping import visible_to
from sofno.monitoring.models import Device, Incident


def devices_for(actor: Actor) -> QuerySet[Device]:
    """The devices of the customers the actor may see."""
    return visible_to(actor, Device.objects.all()).select_related("customer", "installed_by")


def incidents_for(actor: Actor) -> QuerySet[Incident]:
    """The incidents (device and site) of the customers the actor may see, newest first."""
    return visible_to(actor, Incident.objects.all()).select_related(
        "device", "device__customer", "customer", "acknowledged_by", "resolved_by"
    )
