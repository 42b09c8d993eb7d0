"""Event types the notification channels themselves emit."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sofno.events.catalog import EventType, Token

PHONE_EVENTS = (
    EventType(
        "call_patch.finished",
        _("A call patch between an agent and a customer's contact ended."),
        (
            Token("incident_id", "string", _("The incident the call was about.")),
            Token("contact_phone", "string", _("The number bridged."), "+390612345678"),
            Token("outcome", "string", _("Twilio's DialCallStatus."), "completed"),
            Token("duration", "string", _("Seconds the bridge lasted."), "42"),
            Token("call_sid", "string", _("Twilio's call id."), "CA…"),
        ),
        "notifications",
    ),
)
