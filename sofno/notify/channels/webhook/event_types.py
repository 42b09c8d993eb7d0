"""Operational events the delivery machinery emits, so owners can be told."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from sofno.events.catalog import EventType, Token

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

_ENDPOINT = (
    Token("endpoint.id", "string", _("Webhook endpoint id."), "8d1e…"),
    Token("endpoint.url", "string", _("Its URL."), "https://example.com/hooks"),
)


def _w(name: str, description: str | StrPromise, *tokens: Token) -> EventType:
    return EventType(name, description, (*_ENDPOINT, *tokens), "webhooks")


WEBHOOK_EVENTS = (
    _w(
        "webhook.endpoint.failing",
        _("An endpoint started failing (no success since)."),
        Token("since", "datetime", "", "2026-11-22T04:00:00+00:00"),
    ),
    _w(
        "webhook.endpoint.disabled",
        _("An endpoint was disabled: it answered 410, or failed for the whole window."),
        Token(
            "reason",
            "string",
            _("Why, in words."),
            "the endpoint answered 410 Gone: it no longer exists",
        ),
        Token(
            "reason_code",
            "string",
            _("Why, to match on: webhook_gone or webhook_failing."),
            "webhook_gone",
        ),
    ),
    _w(
        "webhook.delivery.exhausted",
        _("A delivery used up its retries and is now a dead letter."),
        Token("delivery", "string", _("Delivery id."), "3a4b…"),
        Token("event_type", "string", "", "invoice.overdue"),
        Token("attempts", "integer", "", 8),
        Token("detail", "string", _("The last failure."), "HTTP 500"),
    ),
    EventType(
        "webhook.test",
        _("A test event sent to one endpoint by hand."),
        (Token("message", "string", "", "This is a test event from SOFNO."),),
        "webhooks",
    ),
)
