"""The ticket events in the catalog, with the tokens their payloads carry."""

from sofno.events.catalog import EventType, Token

_COMMON = (
    Token("ticket.number", "integer", "ticket number in the organization", 42),
    Token("ticket.title", "string", "ticket title", "POS terminal 2 does not print"),
    Token("ticket.priority", "string", "low, normal, high or urgent", "high"),
    Token("ticket.url", "string", "link to the ticket page", "https://sofno.example/tickets/…/"),
    Token("customer.name", "string", "customer name", "Trattoria Da Mario"),
    Token("status.name", "string", "current status", "In progress"),
    Token("status.is_open", "boolean", "whether the status counts as open", True),
    Token("technicians", "array", "assigned technicians (username, name, email)", []),
    Token("actor.name", "string", "who made the change", "Adam Smith"),
)

# A status's events: ``status`` also carries its notification toggles.
_STATUS = (
    Token("status.slug", "string", "the status's short name", "waiting"),
    Token("status.name", "string", "the status's name", "Waiting for the customer"),
    Token("status.is_open", "boolean", "whether the status counts as open", True),
    Token("status.notify", "boolean", "whether entering it notifies", True),
    Token("actor.name", "string", "who made the change", "Adam Smith"),
)

TICKET_EVENTS = (
    EventType("ticket.created", "A ticket was opened.", _COMMON, category="tickets"),
    EventType(
        "ticket.status_changed",
        "A ticket moved to another status.",
        (*_COMMON, Token("previous_status.name", "string", "status before", "Open")),
        category="tickets",
    ),
    EventType(
        "ticket.assigned",
        "A ticket's technicians changed.",
        (
            *_COMMON,
            Token("added_technicians", "array", "technicians newly assigned", []),
            Token("removed_technicians", "array", "technicians no longer assigned", []),
        ),
        category="tickets",
    ),
    EventType(
        "ticket.commented",
        "A message was added to a ticket's conversation.",
        (
            *_COMMON,
            Token("comment.public", "boolean", "a public answer (else an internal note)", True),
            Token("comment.by_customer", "boolean", "written by the customer", False),
            Token("comment.author", "string", "who wrote it", "Adam Smith"),
            Token("comment.body", "string", "the message (empty for internal notes)", "Fixed."),
        ),
        category="tickets",
    ),
    EventType(
        "ticket.updated",
        "A ticket's title, description or priority changed.",
        (*_COMMON, Token("changed", "array", "names of the changed fields", ["priority"])),
        category="tickets",
    ),
    EventType(
        "ticket_status.created",
        "A ticket status was added.",
        _STATUS,
        category="tickets",
    ),
    EventType(
        "ticket_status.updated",
        "A ticket status's name, position or notifications changed.",
        (*_STATUS, Token("changed", "array", "names of the changed fields", ["notify"])),
        category="tickets",
    ),
)
