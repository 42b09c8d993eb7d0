"""Ticket queries, scoped to what an actor may see."""

from __future__ import annotations

from django.db.models import QuerySet

from sofno.core.access import Actor
from sofno.core.scoping import visible_to
from sofno.tickets.models import Ticket


def tickets_for(actor: Actor) -> QuerySet[Ticket]:
    """The organization's tickets; a customer user's own customer's only."""
    return visible_to(actor, Ticket.objects.all()).select_related("customer", "status")
