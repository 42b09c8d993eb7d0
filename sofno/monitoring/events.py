"""The event types this app emits, for the catalog."""

from __future__ import annotations

from sofno.events.catalog import EventType, Token

DEVICE_TOKENS = (
    Token("device_id", "string", "the device's public id"),
    Token("device_name", "string", "the device's name", "Till 1"),
    Token("customer_id", "string", "the customer's public id"),
    Token("customer_name", "string", "the customer's name", "Pizzeria Roma"),
    Token("status", "string", "new, online, offline or paused", "offline"),
    Token("last_checkin_at", "datetime", "the last check-in"),
    Token("last_ip", "string", "the address of the last check-in"),
)
INCIDENT_TOKENS = (
    *DEVICE_TOKENS,
    Token("incident_id", "string", "the incident's public id"),
    Token("incident_status", "string", "open, acknowledged or resolved"),
    Token("title", "string", "what happened", "Till 1 (Pizzeria Roma) is offline"),
    Token("opened_at", "datetime", "when the incident opened"),
)

EVENT_TYPES = (
    EventType("device.created", "A device was added.", DEVICE_TOKENS, "monitoring"),
    EventType("device.updated", "A device was changed.", DEVICE_TOKENS, "monitoring"),
    EventType("device.deleted", "A device was deleted.", DEVICE_TOKENS, "monitoring"),
    EventType(
        "device.offline", "A device missed its check-in deadline.", INCIDENT_TOKENS, "monitoring"
    ),
    EventType(
        "device.online",
        "A device checked in after being new, offline or paused.",
        (*DEVICE_TOKENS, Token("previous", "string", "the status before")),
        "monitoring",
    ),
    EventType("incident.opened", "A device's incident opened.", INCIDENT_TOKENS, "monitoring"),
    EventType(
        "incident.alert",
        "An incident's alert is due now: inside business hours, outside maintenance, "
        "alerts enabled. Notification rules hang deliveries on this one.",
        INCIDENT_TOKENS,
        "monitoring",
    ),
    EventType(
        "incident.acknowledged",
        "Someone took an incident.",
        (*INCIDENT_TOKENS, Token("by", "string", "who acknowledged")),
        "monitoring",
    ),
    EventType(
        "incident.resolved",
        "An incident was resolved, by hand or by the device's recovery.",
        (
            *INCIDENT_TOKENS,
            Token("auto", "boolean", "resolved by recovery"),
            Token("by", "string", "who resolved it"),
        ),
        "monitoring",
    ),
)
