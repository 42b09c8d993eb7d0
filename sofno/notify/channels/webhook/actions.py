"""Changes to webhook endpoints and deliveries: validated, atomic and audited."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from sofno.core import http
from sofno.core.access import Actor
from sofno.core.modeling import apply_fields, field_error, save_audited
from sofno.events import catalog
from sofno.events.emit import emit
from sofno.notify import reasons as why
from sofno.notify.channels.webhook.adapter import RESERVED_HEADERS
from sofno.notify.models import (
    TEST_EVENT_TYPE,
    Delivery,
    DeliveryStatus,
    WebhookEndpoint,
    new_secret,
)

HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
MAX_HEADERS = 20
MAX_PARAMETERS = 20
# How long the previous secret keeps signing after a rotation.
ROTATION_OVERLAP = dt.timedelta(hours=24)


def validate_endpoint_fields(organization, fields: dict[str, Any]) -> None:
    """Check what a form or the API may set on an endpoint.

    - ``url``: the outbound policy (https, port 443 unless allowed, <= 2,048 chars);
    - ``event_types``: known types or ``prefix.*``;
    - ``headers``: valid names, no Standard Webhooks or transport header, no newlines;
    - ``parameters``: ``{name, value}`` pairs with distinct names.
    """
    if "url" in fields:
        try:
            http.check_url(fields["url"])
        except http.UrlRefused as exc:
            raise field_error("url", str(exc), exc.rule) from None
    if "event_types" in fields:
        unknown = catalog.unknown_patterns(organization, fields["event_types"] or [])
        if unknown:
            raise field_error("event_types", f"unknown event type {unknown[0]!r}", "unknown")
    headers = fields.get("headers") or {}
    if len(headers) > MAX_HEADERS:
        raise field_error("headers", f"at most {MAX_HEADERS} headers", "max_items")
    for name, value in headers.items():
        if not HEADER_NAME.match(name):
            raise field_error("headers", f"{name!r} is not a valid header name", "invalid")
        if name.lower() in RESERVED_HEADERS:
            raise field_error(
                "headers", f"{name} is set by SOFNO and cannot be replaced", "reserved"
            )
        if not isinstance(value, str) or "\n" in value or "\r" in value or len(value) > 1000:
            raise field_error("headers", f"{name}: value must be one line of text", "invalid")
    parameters = fields.get("parameters") or []
    if len(parameters) > MAX_PARAMETERS:
        raise field_error("parameters", f"at most {MAX_PARAMETERS} parameters", "max_items")
    names = [p.get("name") for p in parameters]
    if len(set(names)) != len(names):
        raise field_error("parameters", "parameter names must be distinct", "unique")


@transaction.atomic
def create_endpoint(*, acting_user: Actor, fields: dict[str, Any]) -> WebhookEndpoint:
    """Create an endpoint with a fresh ``whsec_`` secret (admins only)."""
    acting_user.require_admin()
    validate_endpoint_fields(acting_user.organization, fields)
    endpoint = WebhookEndpoint(organization=acting_user.organization)
    apply_fields(endpoint, fields)
    endpoint.secrets = [{"secret": new_secret(), "expires_at": None}]
    save_audited(acting_user, endpoint, "webhook.created", url=endpoint.url)
    return endpoint


@transaction.atomic
def update_endpoint(
    *, acting_user: Actor, endpoint: WebhookEndpoint, fields: dict[str, Any]
) -> WebhookEndpoint:
    """Change an endpoint; enabling it again restarts its failing clock."""
    acting_user.require_admin()
    validate_endpoint_fields(acting_user.organization, fields)
    if fields.get("enabled") and not endpoint.enabled:
        endpoint.failing_since = None
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        endpoint.disabled_code, endpoint.disabled_params = "", {}
    if fields.get("enabled") is False and endpoint.enabled:
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = ""
        endpoint.disabled_code, endpoint.disabled_params = why.WEBHOOK_BY_HAND, {}
    changed = apply_fields(endpoint, fields)
    save_audited(acting_user, endpoint, "webhook.updated", fields=changed)
    return endpoint


@transaction.atomic
def delete_endpoint(*, acting_user: Actor, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its deliveries and attempts."""
    acting_user.require_admin()
    acting_user.audit("webhook.deleted", endpoint, url=endpoint.url)
    endpoint.delete()


@transaction.atomic
def rotate_secret(*, acting_user: Actor, endpoint: WebhookEndpoint) -> str:
    """Start signing with a new secret; the previous one also signs for 24 hours."""
    acting_user.require_admin()
    now = timezone.now()
    expires = (now + ROTATION_OVERLAP).isoformat()
    kept = [
        {"secret": entry["secret"], "expires_at": entry.get("expires_at") or expires}
        for entry in endpoint.secrets
        if entry.get("expires_at") is None or dt.datetime.fromisoformat(entry["expires_at"]) > now
    ]
    secret = new_secret()
    endpoint.secrets = [{"secret": secret, "expires_at": None}, *kept]
    endpoint.save(update_fields=["secrets", "updated_at"])
    acting_user.audit("webhook.secret_rotated", endpoint)
    return secret


@transaction.atomic
def send_test(*, acting_user: Actor, endpoint: WebhookEndpoint) -> Delivery:
    """Record a ``webhook.test`` event and queue it for this endpoint only."""
    acting_user.require_admin()
    event = emit(
        acting_user.organization,
        TEST_EVENT_TYPE,
        f"webhook:{endpoint.public_id}",
        {
            "message": "This is a test event from SOFNO.",
            "endpoint": {"id": str(endpoint.public_id), "url": endpoint.url},
        },
    )
    delivery = Delivery.objects.create(
        organization=acting_user.organization,
        event=event,
        endpoint=endpoint,
        ordered=False,
        ordering_key=event.ordering_key,
        sequence=event.sequence,
        manual=True,
    )
    acting_user.audit("webhook.test_sent", endpoint, delivery=str(delivery.public_id))
    return delivery


@transaction.atomic
def replay(*, acting_user: Actor, delivery: Delivery) -> Delivery:
    """Send a delivery again now, by hand (same ``webhook-id``).

    - a delivery still in flight cannot be replayed (it would go out twice at once).
    """
    acting_user.require_admin()
    changed = (
        Delivery.objects.filter(pk=delivery.pk)
        .exclude(status=DeliveryStatus.SENDING)
        .update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=timezone.now(),
            manual=True,
            finished_at=None,
        )
    )
    if not changed:
        raise field_error("delivery", "is being sent right now; try again shortly", "in_flight")
    delivery.refresh_from_db()
    acting_user.audit("delivery.replayed", delivery)
    return delivery
