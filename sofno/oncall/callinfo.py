"""Who is calling: the customers and contacts behind a phone number, with what an
agent needs on screen (devices, open incidents, open tickets, recent notifications)
and an optional external lookup (the company's ERP).

Extension point: apps below this one (``notify``) add sections with
:func:`register_section` from their ``AppConfig.ready``; a section is
``fn(actor, customers) -> list[dict]`` keyed by its name in the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx

from sofno.core.access import Actor
from sofno.core.http import UrlRefused, check_url, sync_client
from sofno.core.validators import normalize_phone
from sofno.directory.selectors import contacts_for
from sofno.monitoring.models import OPEN_STATUSES
from sofno.monitoring.selectors import devices_for, incidents_for
from sofno.oncall.models import OncallSettings
from sofno.tickets.selectors import tickets_for

log = logging.getLogger(__name__)
LOOKUP_TIMEOUT = 3.0
Section = Callable[[Actor, list], list[dict]]
SECTIONS: dict[str, Section] = {}


def register_section(name: str, section: Section) -> None:
    """Add ``section(actor, customers) -> list of dicts`` to every caller answer.

    ``notify`` registers ``recent_notifications`` here once it exists.
    """
    SECTIONS[name] = section


def caller_info(actor: Actor, phone: str) -> dict:
    """Everything known about the caller at ``phone`` (E.164) in the actor's view.

    Raises ``ValueError`` naming the rule when ``phone`` is not an E.164 number.
    """
    number = normalize_phone(phone)
    contacts = list(contacts_for(actor).filter(phone=number))
    customers = list({c.customer_id: c.customer for c in contacts}.values())
    ids = [c.id for c in customers]
    devices = devices_for(actor).filter(customer_id__in=ids).order_by("customer_id", "name")
    incidents = incidents_for(actor).filter(device__customer_id__in=ids, status__in=OPEN_STATUSES)
    tickets = tickets_for(actor).filter(customer_id__in=ids, status__is_open=True)
    answer = {
        "phone": number,
        "customers": [
            {
                "id": str(c.public_id),
                "name": c.name,
                "city": c.city,
                "active": c.active,
                "notes": c.notes,
            }
            for c in customers
        ],
        "contacts": [
            {
                "id": str(c.public_id),
                "name": c.name,
                "customer": str(c.customer.public_id),
                "customer_name": c.customer.name,
                "email": c.email,
                "contact_type": c.contact_type.slug,
                "is_primary": c.is_primary,
            }
            for c in contacts
        ],
        "devices": [
            {
                "id": str(d.public_id),
                "name": d.name,
                "customer_name": d.customer.name,
                "status": d.status,
                "last_checkin_at": d.last_checkin_at.isoformat() if d.last_checkin_at else None,
            }
            for d in devices[:50]
        ],
        "incidents": [
            {
                "id": str(i.public_id),
                "title": i.title,
                "status": i.status,
                "device": i.device.name,
                "opened_at": i.opened_at.isoformat(),
            }
            for i in incidents[:20]
        ],
        "tickets": [
            {
                "id": str(t.public_id),
                "number": t.number,
                "title": t.title,
                "status": t.status.name,
                "priority": t.priority,
            }
            for t in tickets[:20]
        ],
        "extra": {name: section(actor, customers) for name, section in SECTIONS.items()},
        "external": external_lookup(actor, number),
    }
    return answer


def external_lookup(actor: Actor, number: str) -> dict | None:
    """The organization's lookup URL called with ``?phone=``; its JSON, or the error.

    Goes through the guarded outbound client, so it cannot reach private
    addresses unless an administrator allows them.
    """
    url = OncallSettings.for_org(actor.organization).lookup_url
    if not url:
        return None
    try:
        check_url(url, lookup=False)  # the client checks the resolved address
        with sync_client(timeout=LOOKUP_TIMEOUT) as client:
            response = client.get(url, params={"phone": number})
        response.raise_for_status()
        return {"ok": True, "data": response.json()}
    except (httpx.HTTPError, UrlRefused, ValueError) as exc:
        log.info("caller lookup failed: %s", exc)
        return {"ok": False, "error": str(exc) or exc.__class__.__name__}
