"""Ticket queries, scoped to what an actor may see."""

from __future__ import annotations

from django.db.models import QuerySet

from sofno.core.access import Actor
from sofno.directory.selectors import customers_for
from sofno.tickets.models import Ticket


def tickets_for(actor: Actor) -> QuerySet[Ticket]:
    """The organization's tickets; a customer user's own customer's only."""
    tickets = Ticket.objects.filter(organization=actor.organization)
    if actor.is_customer_user:
        tickets = tickets.filter(customer__in=customers_for(actor))
    return tickets.select_related("customer", "status")
