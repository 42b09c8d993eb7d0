"""Every new organization gets the default ticket statuses."""

from __future__ import annotations

from sofno.tickets.actions import ensure_ticket_defaults


def create_ticket_defaults(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        ensure_ticket_defaults(instance)
