"""Queries over monitoring, always scoped to what an actor may see."""

from __future__ import annotations

from django.db.models import QuerySet

from sofno.core.access import Actor
from sofno.directory.selectors import customers_for
from sofno.monitoring.models import Device, Incident


def devices_for(actor: Actor) -> QuerySet[Device]:
    """The devices of the customers the actor may see."""
    devices = Device.objects.filter(organization=actor.organization).select_related("customer")
    if actor.is_customer_user:
        devices = devices.filter(customer__in=customers_for(actor))
    return devices


def incidents_for(actor: Actor) -> QuerySet[Incident]:
    """The incidents (device and site) of the customers the actor may see, newest first."""
    incidents = Incident.objects.filter(organization=actor.organization).select_related(
        "device", "device__customer", "customer", "acknowledged_by", "resolved_by"
    )
    if actor.is_customer_user:
        incidents = incidents.filter(customer__in=customers_for(actor))
    return incidents
