"""SMS replies to alerts: who replied, to which alert, and what they asked for."""

from __future__ import annotations

from sofno.notify.escalation import phone
from sofno.notify.models import Delivery


def handle_reply(from_phone: str, action: str, reference: str | None) -> str:
    """Act on the alert an SMS reply refers to; returns the text to answer with.

    - the sender is the person whose alert SMS went to ``from_phone``;
    - ``reference`` is the alert number printed in that SMS (the event's sequence);
      without one, the latest alert SMS sent to that number is meant.
    """
    deliveries = (
        Delivery.objects.filter(channel="sms", address=from_phone, recipient_user__isnull=False)
        .select_related("event")
        .order_by("-created_at", "-id")
    )
    if reference:
        deliveries = deliveries.filter(event__sequence=int(reference))
    delivery = next(
        (d for d in deliveries[:20] if (d.event.payload or {}).get("incident_id")), None
    )
    if delivery is None:
        return "No alert found to act on."
    actor = phone.actor_for(delivery.organization_id, delivery.recipient_user_id)
    if actor is None:
        return "You are no longer a member."
    return phone.act_on_incident(actor, delivery.event.payload["incident_id"], action)
