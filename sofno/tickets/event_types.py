"""The ticket events in the catalog, with the tokens their payloads carry."""

from django.utils.translation import gettext_lazy as _

from sofno.events.catalog import EventType, Token

_COMMON = (
    Token("ticket.number", "integer", _("ticket number in the organization"), 42),
    Token("ticket.title", "string", _("ticket title"), "POS terminal 2 does not print"),
    Token("ticket.priority", "string", _("low, normal, high or urgent"), "high"),
    Token("ticket.url", "string", _("link to the ticket page"), "https://sofno.example/tickets/…/"),
    Token("customer.name", "string", _("customer name"), "Trattoria Da Mario"),
    Token("status.name", "string", _("current status"), "In progress"),
    Token("status.is_open", "boolean", _("whether the status counts as open"), True),
    Token("technicians", "array", _("assigned technicians (username, name, email)"), []),
    Token("actor.name", "string", _("who made the change"), "Adam Smith"),
)

# A status's events: ``status`` also carries its notification toggles.
_STATUS = (
    Token("status.slug", "string", _("the status's short name"), "waiting"),
    Token("status.name", "string", _("the status's name"), "Waiting for the customer"),
    Token("status.is_open", "boolean", _("whether the status counts as open"), True),
    Token("status.notify", "boolean", _("whether entering it notifies"), True),
    Token("actor.name", "string", _("who made the change"), "Adam Smith"),
)

TICKET_EVENTS = (
    EventType("ticket.created", _("A ticket was opened."), _COMMON, category="tickets"),
    EventType(
        "ticket.status_changed",
        _("A ticket moved to another status."),
        (*_COMMON, Token("previous_status.name", "string", _("status before"), "Open")),
        category="tickets",
    ),
    EventType(
        "ticket.assigned",
        _("A ticket's technicians changed."),
        (
            *_COMMON,
            Token("added_technicians", "array", _("technicians newly assigned"), []),
            Token("removed_technicians", "array", _("technicians no longer assigned"), []),
        ),
        category="tickets",
    ),
    EventType(
        "ticket.commented",
        _("A message was added to a ticket's conversation."),
        (
            *_COMMON,
            Token("comment.public", "boolean", _("a public answer (else an internal note)"), True),
            Token("comment.by_customer", "boolean", _("written by the customer"), False),
            Token("comment.author", "string", _("who wrote it"), "Adam Smith"),
            Token("comment.body", "string", _("the message (empty for internal notes)"), "Fixed."),
        ),
        category="tickets",
    ),
    EventType(
        "ticket.updated",
        _("A ticket's title, description or priority changed."),
        (*_COMMON, Token("changed", "array", _("names of the changed fields"), ["priority"])),
        category="tickets",
    ),
    EventType(
        "ticket_status.created",
        _("A ticket status was added."),
        _STATUS,
        category="tickets",
    ),
    EventType(
        "ticket_status.updated",
        _("A ticket status's name, position or notifications changed."),
        (*_STATUS, Token("changed", "array", _("names of the changed fields"), ["notify"])),
        category="tickets",
    ),
)
