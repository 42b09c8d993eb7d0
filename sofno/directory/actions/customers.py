"""Customers: create, change, delete."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from sofno.core.access import Actor
from sofno.core.modeling import apply_fields, save_validated
from sofno.core.models import Membership, Role
from sofno.directory.models import Customer


def _agents(actor: Actor, member_ids: list[UUID]) -> list:
    """The users behind member ids of the actor's organization; customer users and
    unknown ids are an ``assigned_agents`` error."""
    wanted = set(member_ids)
    memberships = list(
        Membership.objects.filter(
            organization=actor.organization, public_id__in=wanted
        ).select_related("user")
    )
    if len(memberships) != len(wanted):
        found = {m.public_id for m in memberships}
        missing = ", ".join(sorted(str(i) for i in wanted - found))
        raise ValidationError(
            {
                "assigned_agents": ValidationError(
                    _("unknown member id: %(ids)s") % {"ids": missing}, code="unknown"
                )
            }
        )
    if any(m.role == Role.CUSTOMER for m in memberships):
        raise ValidationError(
            {
                "assigned_agents": ValidationError(
                    _("a customer user cannot be an assigned agent"), code="not_staff"
                )
            }
        )
    return [m.user for m in memberships]


def _save(actor: Actor, customer: Customer, fields: dict[str, Any]) -> None:
    agents = fields.pop("assigned_agents", None)
    users = _agents(actor, agents) if agents is not None else None
    apply_fields(customer, fields)
    save_validated(customer)
    if users is not None:
        customer.assigned_agents.set(users)


@transaction.atomic
def create_customer(*, acting_user: Actor, fields: dict[str, Any]) -> Customer:
    """Create a customer in the actor's organization.

    - ``assigned_agents`` are member ids of the same organization (staff, not
      customer users).
    - ``business_hours`` is ``{"ranges": [...]}`` in the customer's timezone.
    """
    acting_user.require_write()
    customer = Customer(organization=acting_user.organization)
    _save(acting_user, customer, dict(fields))
    acting_user.audit("customer.created", customer, name=customer.name)
    return customer


@transaction.atomic
def update_customer(*, acting_user: Actor, customer: Customer, fields: dict[str, Any]) -> Customer:
    """Change the given fields of a customer; nothing is saved if any is invalid."""
    acting_user.require_write()
    _save(acting_user, customer, dict(fields))
    acting_user.audit("customer.updated", customer, fields=sorted(fields))
    return customer


@transaction.atomic
def delete_customer(*, acting_user: Actor, customer: Customer) -> None:
    """Delete a customer with its contacts and customer-user links (owners, admins)."""
    acting_user.require_admin()
    acting_user.audit("customer.deleted", customer, name=customer.name)
    customer.delete()
