"""Members of the organization, with the customer link of customer users.

Core owns users, memberships and their role rules; this module adds the one rule
core cannot see: a customer-role member is linked to exactly one customer
(``directory.CustomerUser``), and only customer-role members are.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from sofno.core import actions as core_actions
from sofno.core.access import Actor
from sofno.core.modeling import save_validated
from sofno.core.models import Membership, Role
from sofno.directory.actions.contacts import resolve_customer
from sofno.directory.models import Customer, CustomerUser


def _customer_error(message: str, rule: str) -> ValidationError:
    return ValidationError({"customer": ValidationError(message, code=rule)})


def _check_link(role: str, customer: UUID | None) -> None:
    if role == Role.CUSTOMER and customer is None:
        raise _customer_error(_("a customer user must name the one customer they see"), "required")
    if role != Role.CUSTOMER and customer is not None:
        raise _customer_error(_("only customer users are linked to a customer"), "not_allowed")


def _link(actor: Actor, membership: Membership, customer: Customer) -> None:
    link = CustomerUser.objects.filter(
        organization=actor.organization, user=membership.user
    ).first() or CustomerUser(organization=actor.organization, user=membership.user)
    link.customer = customer
    save_validated(link)
    actor.audit("member.customer_linked", membership, customer=str(customer.public_id))


def _unlink(actor: Actor, membership: Membership) -> None:
    CustomerUser.objects.filter(organization=actor.organization, user=membership.user).delete()


@transaction.atomic
def add_member(*, acting_user: Actor, fields: dict[str, Any]) -> Membership:
    """Create a user with a membership (see :func:`sofno.core.actions.create_member`).

    - ``customer`` (a customer id) is required for the customer role and refused
      for every other role.
    """
    fields = dict(fields)
    customer_id = fields.pop("customer", None)
    role = fields.get("role", Role.AGENT)
    _check_link(role, customer_id)
    customer = resolve_customer(acting_user, customer_id) if customer_id else None
    membership = core_actions.create_member(acting_user=acting_user, fields=fields)
    if customer is not None:
        _link(acting_user, membership, customer)
    return membership


@transaction.atomic
def update_member(
    *, acting_user: Actor, membership: Membership, fields: dict[str, Any]
) -> Membership:
    """Change a member's role and/or linked customer.

    - Leaving the customer role drops the customer link; entering it needs one.
    """
    role = fields.get("role", membership.role)
    customer_id = fields.get("customer")
    has_link = CustomerUser.objects.filter(
        organization=acting_user.organization, user=membership.user
    ).exists()
    keeps_link = role == Role.CUSTOMER and customer_id is None and has_link
    if not keeps_link:
        _check_link(role, customer_id)
    customer = resolve_customer(acting_user, customer_id) if customer_id else None
    core_actions.change_member_role(acting_user=acting_user, membership=membership, role=role)
    if role != Role.CUSTOMER:
        _unlink(acting_user, membership)
    elif customer is not None:
        _link(acting_user, membership, customer)
    return membership


@transaction.atomic
def remove_member(*, acting_user: Actor, membership: Membership) -> None:
    """End a membership, with its customer link and its customer assignments."""
    core_actions.remove_member(acting_user=acting_user, membership=membership)
    _unlink(acting_user, membership)
    Customer.assigned_agents.through.objects.filter(
        customer__organization=acting_user.organization, user=membership.user
    ).delete()
