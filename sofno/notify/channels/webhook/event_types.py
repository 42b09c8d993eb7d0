"""Operational events the delivery machinery emits, so owners can be told."""

from __future__ import annotations

from sofno.events.catalog import EventType, Token

_ENDPOINT = (
    Token("endpoint.id", "string", "Webhook endpoint id.", "8d1e…"),
    Token("endpoint.url", "string", "Its URL.", "https://example.com/hooks"),
)


def _w(name: str, description: str, *tokens: Token) -> EventType:
    return EventType(name, description, (*_ENDPOINT, *tokens), "webhooks")


WEBHOOK_EVENTS = (
    _w(
        "webhook.endpoint.failing",
        "An endpoint started failing (no success since).",
        Token("since", "datetime", "", "2026-11-22T04:00:00+00:00"),
    ),
    _w(
        "webhook.endpoint.disabled",
        "An endpoint was disabled: it answered 410, or failed for the whole window.",
        Token(
            "reason",
            "string",
            "Why, in words.",
            "the endpoint answered 410 Gone: it no longer exists",
        ),
        Token(
            "reason_code",
            "string",
            "Why, to match on: webhook_gone or webhook_failing.",
            "webhook_gone",
        ),
    ),
    _w(
        "webhook.delivery.exhausted",
        "A delivery used up its retries and is now a dead letter.",
        Token("delivery", "string", "Delivery id.", "3a4b…"),
        Token("event_type", "string", "", "invoice.overdue"),
        Token("attempts", "integer", "", 8),
        Token("detail", "string", "The last failure.", "HTTP 500"),
    ),
    EventType(
        "webhook.test",
        "A test event sent to one endpoint by hand.",
        (Token("message", "string", "", "This is a test event from SOFNO."),),
        "webhooks",
    ),
)
