"""Changes to the directory: validated, atomic and audited."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction

from sofno.core.access import Actor
from sofno.core.models import Membership
from sofno.directory.models import DEFAULT_CONTACT_TYPES, Contact, ContactType, Customer


def _members_to_users(actor: Actor, member_ids: list[UUID]) -> list:
    memberships = list(
        Membership.objects.filter(
            organization=actor.organization, public_id__in=member_ids
        ).select_related("user")
    )
    if len(memberships) != len(set(member_ids)):
        raise ValidationError({"assigned_agents": ["unknown member id"]}, code="unknown")
    return [m.user for m in memberships]


def _apply(instance, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(instance, name, value)


@transaction.atomic
def create_customer(*, acting_user: Actor, fields: dict[str, Any]) -> Customer:
    """Create a customer in the actor's organization.

    - ``assigned_agents`` are member ids of the same organization.
    - ``business_hours`` is ``{"ranges": [...]}`` in the customer's timezone.
    """
    acting_user.require_write()
    agents = fields.pop("assigned_agents", None)
    customer = Customer(organization=acting_user.organization)
    _apply(customer, fields)
    customer.full_clean()
    customer.save()
    if agents is not None:
        customer.assigned_agents.set(_members_to_users(acting_user, agents))
    acting_user.audit("customer.created", customer, name=customer.name)
    return customer


@transaction.atomic
def update_customer(*, acting_user: Actor, customer: Customer, fields: dict[str, Any]) -> Customer:
    """Change the given fields of a customer; nothing is saved if any is invalid."""
    acting_user.require_write()
    agents = fields.pop("assigned_agents", None)
    _apply(customer, fields)
    customer.full_clean()
    customer.save()
    if agents is not None:
        customer.assigned_agents.set(_members_to_users(acting_user, agents))
    acting_user.audit("customer.updated", customer, fields=sorted(fields))
    return customer


@transaction.atomic
def delete_customer(*, acting_user: Actor, customer: Customer) -> None:
    """Delete a customer and its contacts."""
    acting_user.require_admin()
    acting_user.audit("customer.deleted", customer, name=customer.name)
    customer.delete()


def ensure_default_contact_types(organization) -> None:
    """Give a new organization the usual contact types (service, billing, manager)."""
    for slug, name in DEFAULT_CONTACT_TYPES:
        ContactType.objects.get_or_create(
            organization=organization, slug=slug, defaults={"name": str(name)}
        )


def resolve_contact_type(actor: Actor, slug: str) -> ContactType:
    """The organization's contact type with ``slug``, or a field error."""
    found = ContactType.objects.filter(organization=actor.organization, slug=slug).first()
    if found is None:
        raise ValidationError({"contact_type": [f"unknown contact type {slug!r}"]}, code="unknown")
    return found


__all__ = [
    "Contact",
    "create_customer",
    "delete_customer",
    "ensure_default_contact_types",
    "resolve_contact_type",
    "update_customer",
]
