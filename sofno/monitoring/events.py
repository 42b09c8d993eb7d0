"""The event types this app emits, for the catalog."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sofno.events.catalog import EventType, Token

DEVICE_TOKENS = (
    Token("device_id", "string", _("the device's public id")),
    Token("device_name", "string", _("the device's name"), "Till 1"),
    Token("customer_id", "string", _("the customer's public id")),
    Token("customer_name", "string", _("the customer's name"), "Pizzeria Roma"),
    Token("status", "string", _("new, online, offline or paused"), "offline"),
    Token("last_checkin_at", "datetime", _("the last check-in")),
    Token("last_ip", "string", _("the address of the last check-in")),
)
INCIDENT_TOKENS = (
    *DEVICE_TOKENS,
    Token("incident_id", "string", _("the incident's public id")),
    Token("incident_status", "string", _("open, acknowledged or resolved")),
    Token("title", "string", _("what happened"), "Till 1 (Pizzeria Roma) is offline"),
    Token("opened_at", "datetime", _("when the incident opened")),
    Token("kind", "string", _("device (one computer) or site (several of one customer)"), "device"),
)
# The incident.* events of both kinds: a site incident's also carry its counts
# (payloads.site_data), so templates may say how many computers are down.
INCIDENT_EVENT_TOKENS = (
    *INCIDENT_TOKENS,
    Token("devices_down", "integer", _("a site incident's computers still offline"), 4),
    Token("devices_total", "integer", _("a site incident's computers in all"), 4),
    Token("device_names", "string", _("a site incident's computers still offline, by name")),
)
# A site incident's events: the customer, the counts and who is still offline.
SITE_TOKENS = (
    Token("customer_id", "string", _("the customer's public id")),
    Token("customer_name", "string", _("the customer's name"), "Café Central"),
    Token("incident_id", "string", _("the site incident's public id")),
    Token("incident_status", "string", _("open, acknowledged or resolved")),
    Token("title", "string", _("what happened"), "Café Central is down (4 of 4 computers offline)"),
    Token("opened_at", "datetime", _("when the site went down")),
    Token("kind", "string", _("site"), "site"),
    Token("devices_down", "integer", _("computers still offline"), 4),
    Token("devices_total", "integer", _("the customer's computers"), 4),
    Token("device_names", "string", _("the computers still offline"), "Till 1, Till 2, Office"),
)
SITE_CHANGE_TOKENS = (
    *SITE_TOKENS,
    Token("device_name", "string", _("the computers that went offline or came back"), "Till 2"),
)
OUTAGE_TOKENS = (
    Token("devices_silent", "integer", _("computers that went silent together"), 3400),
    Token("devices_total", "integer", _("computers online before, of every customer"), 10000),
    Token("customers", "integer", _("customers of the silent computers"), 212),
    Token("started_at", "datetime", _("when it began")),
)
MAINTENANCE_TOKENS = (
    Token("maintenance_id", "string", _("the window's public id")),
    Token("device_id", "string", _("the device's public id (empty: the whole customer)")),
    Token("device_name", "string", _("the device's name (empty: the whole customer)")),
    Token("customer_id", "string", _("the customer's public id")),
    Token("customer_name", "string", _("the customer's name"), "Pizzeria Roma"),
    Token("reason", "string", _("why"), "Router replacement"),
    Token("starts_at", "datetime", _("when it starts")),
    Token("ends_at", "datetime", _("when it ends")),
)

EVENT_TYPES = (
    EventType("device.created", _("A device was added."), DEVICE_TOKENS, "monitoring"),
    EventType("device.updated", _("A device was changed."), DEVICE_TOKENS, "monitoring"),
    EventType("device.deleted", _("A device was deleted."), DEVICE_TOKENS, "monitoring"),
    EventType(
        "device.offline", _("A device missed its check-in deadline."), INCIDENT_TOKENS, "monitoring"
    ),
    EventType(
        "device.online",
        _("A device checked in after being new, offline or paused."),
        (*DEVICE_TOKENS, Token("previous", "string", _("the status before"))),
        "monitoring",
    ),
    EventType(
        "incident.opened",
        _("An incident opened: one device's, or a site's (several computers of one customer)."),
        INCIDENT_EVENT_TOKENS,
        "monitoring",
    ),
    EventType(
        "incident.alert",
        _(
            "An incident is settled and worth a page: once per incident, when no computer of "
            "its customer is left online or after the group wait. Notification rules hang "
            "deliveries and escalations on this one; the alert policy still holds them in "
            "maintenance, with alerts off or outside business hours."
        ),
        INCIDENT_EVENT_TOKENS,
        "monitoring",
    ),
    EventType(
        "incident.merged",
        _("A device's incident joined its site's incident (several computers went down)."),
        (*INCIDENT_TOKENS, Token("site_incident_id", "string", _("the site incident's id"))),
        "monitoring",
    ),
    EventType(
        "site.down",
        _("Several computers of one customer went offline together: the site is down."),
        SITE_TOKENS,
        "monitoring",
    ),
    EventType(
        "site.device_down",
        _("Another computer of a site that is down went offline."),
        SITE_CHANGE_TOKENS,
        "monitoring",
    ),
    EventType(
        "site.device_up",
        _("A computer of a site that is down came back (the others are still offline)."),
        SITE_CHANGE_TOKENS,
        "monitoring",
    ),
    EventType(
        "site.up",
        _("Every computer of a site that was down is back."),
        (*SITE_CHANGE_TOKENS, Token("auto", "boolean", _("resolved by recovery"))),
        "monitoring",
    ),
    EventType(
        "monitoring.degraded",
        _(
            "Computers of many customers went silent together: we suspect our own outage "
            "and hold customer alerts. The admins are told."
        ),
        OUTAGE_TOKENS,
        "monitoring",
    ),
    EventType(
        "monitoring.recovered",
        _(
            "The check-ins are back after a suspected outage of our own; held alerts of "
            "computers still offline go out now."
        ),
        (*OUTAGE_TOKENS, Token("ended_at", "datetime", _("when it ended"))),
        "monitoring",
    ),
    EventType(
        "maintenance.created",
        _("A maintenance window was planned for a device or a whole customer."),
        MAINTENANCE_TOKENS,
        "monitoring",
    ),
    EventType(
        "maintenance.ended",
        _("A maintenance window was ended early by hand."),
        MAINTENANCE_TOKENS,
        "monitoring",
    ),
    EventType(
        "incident.acknowledged",
        _("Someone took an incident."),
        (*INCIDENT_EVENT_TOKENS, Token("by", "string", _("who acknowledged"))),
        "monitoring",
    ),
    EventType(
        "incident.resolved",
        _("An incident was resolved, by hand or by the device's recovery."),
        (
            *INCIDENT_EVENT_TOKENS,
            Token("auto", "boolean", _("resolved by recovery")),
            Token("by", "string", _("who resolved it")),
        ),
        "monitoring",
    ),
)
