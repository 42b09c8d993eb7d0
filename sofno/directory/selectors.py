"""Queries over the directory, always scoped to what an actor may see."""

from __future__ import annotations

from django.db.models import QuerySet

from sofno.core.access import Actor
from sofno.core.models import Membership
from sofno.core.scoping import visible_to
from sofno.core.usernames import sign_in_name_expression
from sofno.directory.models import Contact, Customer


def customers_for(actor: Actor) -> QuerySet[Customer]:
    """The customers the actor may see: all of the organization's, or a customer
    user's own one."""
    return visible_to(actor, Customer.objects.all())


def contacts_for(actor: Actor) -> QuerySet[Contact]:
    """The contacts of the customers the actor may see."""
    return visible_to(actor, Contact.objects.all()).select_related("contact_type", "customer")


def members_for(actor: Actor) -> QuerySet[Membership]:
    """The organization's memberships with their users and customer links (staff only)."""
    actor.require_staff()
    return (
        Membership.objects.filter(organization=actor.organization)
        .select_related("user")
        .prefetch_related("user__customer_links__customer")
        .order_by(sign_in_name_expression("user__username"))
    )
