"""What monitoring's events carry, and small helpers every action module shares."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sofno.core.access import Actor
from sofno.monitoring.models import Device, Incident, IncidentEntry

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


def subject_of(device: Device) -> str:
    return f"device:{device.public_id}"


def actor_label(actor: Actor) -> str:
    if actor.user is not None:
        return actor.user.get_username()
    if actor.api_key is not None:
        return f"API key {actor.api_key.name}"
    return SYSTEM


def timeline_entry(
    incident: Incident, at: dt.datetime, kind: str, message: str = ""
) -> IncidentEntry:
    """An unsaved timeline row written by SOFNO itself."""
    return IncidentEntry(incident=incident, at=at, kind=kind, message=message, actor_label=SYSTEM)
