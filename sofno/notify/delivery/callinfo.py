"""The "recent notifications" part of the on-call caller information.

When a customer calls, the agent sees what SOFNO recently told people about that
customer: which event, on which channel, to whom, and whether it got there.
"""

from __future__ import annotations

from django.db.models import Q

from sofno.core.access import Actor
from sofno.core.channels import Channel
from sofno.core.usernames import sign_in_name
from sofno.notify.models import Delivery

RECENT_LIMIT = 10


def recent_notifications(actor: Actor, customers: list) -> list[dict]:
    """The latest notifications (not webhooks) about ``customers``, newest first.

    Device and incident events carry ``customer_id``; ticket events carry
    ``customer.id``: both are matched.
    """
    ids = [str(customer.public_id) for customer in customers]
    if not ids:
        return []
    about = Q(event__payload__customer_id__in=ids) | Q(event__payload__customer__id__in=ids)
    deliveries = (
        Delivery.objects.filter(organization=actor.organization)
        .exclude(channel=Channel.WEBHOOK)
        .filter(about)
        .select_related("event", "recipient_user")
        .order_by("-created_at")[:RECENT_LIMIT]
    )
    return [
        {
            "at": delivery.created_at.isoformat(),
            "event": delivery.event.type,
            "channel": delivery.channel,
            "to": sign_in_name(delivery.recipient_user)
            if delivery.recipient_user
            else delivery.address,
            "status": delivery.status,
        }
        for delivery in deliveries
    ]
