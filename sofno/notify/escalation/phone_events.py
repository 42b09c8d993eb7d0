"""Event types the notification channels themselves emit."""

from __future__ import annotations

from sofno.events.catalog import EventType, Token

PHONE_EVENTS = (
    EventType(
        "call_patch.finished",
        "A call patch between an agent and a customer's contact ended.",
        (
            Token("incident_id", "string", "The incident the call was about."),
            Token("contact_phone", "string", "The number bridged.", "+390612345678"),
            Token("outcome", "string", "Twilio's DialCallStatus.", "completed"),
            Token("duration", "string", "Seconds the bridge lasted.", "42"),
            Token("call_sid", "string", "Twilio's call id.", "CA…"),
        ),
        "notifications",
    ),
)
