"""SMS replies to alerts: who replied, to which alert, and what they asked for."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from sofno.core.channels import Channel
from sofno.notify.escalation import phone
from sofno.notify.models import Delivery


def language_for(from_phone: str) -> str:
    """The language of the person whose latest alert SMS went to ``from_phone``;
    English for a number we never wrote to."""
    user_id = (
        Delivery.objects.filter(
            channel=Channel.SMS, address=from_phone, recipient_user__isnull=False
        )
        .order_by("-created_at", "-id")
        .values_list("recipient_user_id", flat=True)
        .first()
    )
    return phone.language_of(user_id)


def handle_reply(from_phone: str, action: str, reference: str | None) -> str:
    """Act on the alert an SMS reply refers to; returns the text to answer with.

    - the sender is the person whose alert SMS went to ``from_phone``;
    - ``reference`` is the alert number printed in that SMS (the event's sequence);
      without one, the latest alert SMS sent to that number is meant;
    - the answer is in the language of the person the alert went to (else the active one).
    """
    deliveries = (
        Delivery.objects.filter(
            channel=Channel.SMS, address=from_phone, recipient_user__isnull=False
        )
        .select_related("event")
        .order_by("-created_at", "-id")
    )
    if reference:
        deliveries = deliveries.filter(event__sequence=int(reference))
    delivery = next(
        (d for d in deliveries[:20] if (d.event.payload or {}).get("incident_id")), None
    )
    if delivery is None:
        return _("No alert found to act on.")
    with translation.override(phone.language_of(delivery.recipient_user_id)):
        actor = phone.actor_for(delivery.organization_id, delivery.recipient_user_id)
        if actor is None:
            return _("You are no longer a member.")
        return phone.act_on_incident(actor, delivery.event.payload["incident_id"], action)
