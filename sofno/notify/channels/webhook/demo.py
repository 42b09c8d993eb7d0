"""Sample webhook data for ``sofno demo``: one disabled endpoint to look at."""

from __future__ import annotations

from sofno.notify import reasons
from sofno.notify.models import OrderingMode, WebhookEndpoint, new_secret


def seed(organization, owner) -> None:
    """An example endpoint, disabled so the demo sends nothing anywhere."""
    WebhookEndpoint.objects.create(
        organization=organization,
        url="https://example.com/hooks/sofno",
        description="Example receiver (disabled: point it at your own)",
        event_types=["invoice.*", "customer.*"],
        parameters=[{"name": "customer", "value": "{{ customer.name }}"}],
        ordering=OrderingMode.ORDERED,
        enabled=False,
        disabled_code=reasons.WEBHOOK_EXAMPLE,
        secrets=[{"secret": new_secret(), "expires_at": None}],
    )
