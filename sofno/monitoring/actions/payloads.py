"""What monitoring's events carry, and small helpers every action module shares."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sofno.core.access import Actor
from sofno.core.usernames import sign_in_name
from sofno.monitoring.models import Device, Incident, IncidentEntry, SiteMember

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


def incident_data(incident: Incident, device: Device | None = None) -> dict[str, Any]:
    """The tokens every incident event carries (a site incident's: :func:`site_data`)."""
    if incident.device_id is None:
        return site_data(incident)
    return {
        **device_data(device or incident.device),
        "incident_id": str(incident.public_id),
        "incident_status": incident.status,
        "title": incident.title,
        "opened_at": incident.opened_at.isoformat(),
        "kind": incident.kind,
    }


def site_title(customer_name: str, down: int, total: int) -> str:
    """``Café Central is down (4 of 4 computers offline)``: the stored English title
    events and notifications carry (pages show :func:`sofno.monitoring.words.site_title`)."""
    return f"{customer_name} is down ({down} of {total} computers offline)"


def site_data(incident: Incident, names: list[str] | None = None) -> dict[str, Any]:
    """The tokens of a site incident's events: the customer, the counts, the names of
    the computers still offline."""
    customer = incident.customer
    if names is None:
        names = list(
            SiteMember.objects.filter(incident=incident, back_at__isnull=True)
            .order_by("device__name")
            .values_list("device__name", flat=True)
        )
    return {
        "customer_id": str(customer.public_id),
        "customer_name": customer.name,
        "incident_id": str(incident.public_id),
        "incident_status": incident.status,
        "title": incident.title,
        "opened_at": incident.opened_at.isoformat(),
        "kind": incident.kind,
        "devices_down": incident.devices_down,
        "devices_total": incident.devices_total,
        "device_names": ", ".join(sorted(names)),
    }


def subject_of(device: Device) -> str:
    return f"device:{device.public_id}"


def incident_subject(incident: Incident) -> str:
    """A device incident is about its device, a site incident about its customer."""
    if incident.device_id is not None:
        return f"device:{incident.device.public_id}"
    return f"customer:{incident.customer.public_id}"


def actor_label(actor: Actor) -> str:
    if actor.user is not None:
        return sign_in_name(actor.user)
    if actor.api_key is not None:
        return f"API key {actor.api_key.name}"
    return SYSTEM


# The columns of the timeline rows the batched paths insert (``bulk.insert_rows``).
ENTRY_COLUMNS = ["incident_id", "at", "kind", "message", "params", "actor_label"]


def entry_row(incident_id: int, at: Any, kind: str, params: dict[str, Any]) -> tuple:
    """A timeline row SOFNO writes, as ``ENTRY_COLUMNS`` values (``at`` adapted):
    ``params`` from :func:`sofno.monitoring.words.say`, no stored sentence."""
    return (incident_id, at, kind, "", params, SYSTEM)


def timeline_entry(
    incident: Incident, at: dt.datetime, kind: str, params: dict[str, Any] | None = None
) -> IncidentEntry:
    """An unsaved timeline row written by SOFNO itself (``params``: ``words.say``)."""
    return IncidentEntry(
        incident=incident, at=at, kind=kind, params=params or {}, actor_label=SYSTEM
    )
