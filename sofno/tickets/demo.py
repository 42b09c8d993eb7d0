"""Sample tickets for ``sofno demo``."""

from __future__ import annotations

from sofno.core.access import Actor
from sofno.core.models import Role
from sofno.directory.models import Customer
from sofno.tickets import actions
from sofno.tickets.models import TicketStatus


def seed(organization, owner) -> None:
    """Two tickets at the first sample customers, one in progress and assigned."""
    actor = Actor(organization=organization, role=Role.OWNER, user=owner)
    customers = list(Customer.objects.filter(organization=organization).order_by("name")[:2])
    if not customers:
        return
    progress = TicketStatus.objects.get(organization=organization, slug="in-progress")
    actions.create_ticket(
        acting_user=actor,
        customer=customers[0],
        title="Receipt printer jams",
        description="The kitchen printer jams every morning.",
        status=progress,
        technicians=[owner],
    )
    if len(customers) > 1:
        actions.create_ticket(
            acting_user=actor, customer=customers[1], title="New POS terminal to install"
        )
