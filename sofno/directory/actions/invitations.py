"""Invitations: an owner or admin invites someone by email; the link makes them a member.

The link carries a random token; only its hash is stored. A link works once and only
for :data:`INVITATION_DAYS` days. Sending the email is the web layer's job (email
belongs to ``notify``, which this app may not import).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sofno.core.access import Actor, PermissionDenied, actor_for_user
from sofno.core.models import Membership, Role, hash_secret
from sofno.core.usernames import sign_in_name
from sofno.directory.actions.contacts import resolve_customer
from sofno.directory.actions.members import _check_link, add_member
from sofno.directory.models import Invitation

INVITATION_DAYS = 7


class InvitationClosed(Exception):
    """The link is unknown, used already, expired, or its inviter may no longer invite."""


def _check_may_invite(actor: Actor, role: str) -> None:
    actor.require_admin()
    actor.require_person()
    if role not in Role.values:
        raise ValidationError({"role": ValidationError(_("unknown role"), code="invalid")})
    if role == Role.OWNER and not actor.is_owner:
        raise PermissionDenied("owner_only", _("Only an owner may grant or change the owner role."))


@transaction.atomic
def invite(*, acting_user: Actor, fields: dict[str, Any]) -> tuple[Invitation, str]:
    """Create an invitation and return it with its plain token (never stored).

    - ``fields``: ``email``, ``role``, ``customer`` (a customer id: required for the
      customer role, refused for every other role).
    - Owners and admins may invite; only an owner may invite an owner.
    - Nobody whose email is already a member's is invited again.
    """
    role = fields.get("role") or Role.AGENT
    _check_may_invite(acting_user, role)
    customer_id = fields.get("customer")
    _check_link(role, customer_id)
    customer = resolve_customer(acting_user, customer_id) if customer_id else None
    email = (fields.get("email") or "").strip()
    members = Membership.objects.filter(organization=acting_user.organization)
    if email and members.filter(user__email__iexact=email).exists():
        raise ValidationError(
            {"email": ValidationError(_("someone with this email is a member already"), "member")}
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization=acting_user.organization,
        email=email,
        role=role,
        customer=customer,
        token_hash=hash_secret(token),
        invited_by=acting_user.user,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    invitation.full_clean(exclude=["token_hash"])
    invitation.save()
    acting_user.audit("invitation.created", invitation, email=invitation.email, role=role)
    return invitation, token


def open_invitation(token: str) -> Invitation:
    """The invitation a link's token names, if it still works; else :class:`InvitationClosed`."""
    invitation = (
        Invitation.objects.select_related("organization", "customer")
        .filter(token_hash=hash_secret(token or ""))
        .first()
    )
    if invitation is None or not invitation.is_open():
        raise InvitationClosed
    return invitation


def _inviter(invitation: Invitation) -> Actor:
    # The inviter acts again when the link is used: if they have since lost the right
    # to grant this role, the invitation dies with it.
    inviter = invitation.invited_by
    actor = actor_for_user(inviter, invitation.organization_id) if inviter else None
    if actor is None or not actor.is_admin:
        raise InvitationClosed
    if invitation.role == Role.OWNER and not actor.is_owner:
        raise InvitationClosed
    return actor


@transaction.atomic
def accept(*, token: str, fields: dict[str, Any]) -> Membership:
    """Use an invitation: create the account (``username``, ``password``, optional
    ``first_name``/``last_name``) and its membership with the invited role.

    - The link works once: it is claimed by a compare-and-set first, so of two people
      using it at the same moment one wins (on SQLite as on PostgreSQL); a refused
      account rolls the claim back with everything else.
    """
    invitation = open_invitation(token)
    now = timezone.now()
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, expires_at__gt=now
    ).update(accepted_at=now)
    if not claimed:
        raise InvitationClosed
    invitation.accepted_at = now
    actor = _inviter(invitation)
    member_fields = {
        "username": fields.get("username", ""),
        "password": fields.get("password", ""),
        "first_name": fields.get("first_name", ""),
        "last_name": fields.get("last_name", ""),
        "email": invitation.email,
        "role": invitation.role,
    }
    if invitation.customer is not None:
        member_fields["customer"] = invitation.customer.public_id
    membership = add_member(acting_user=actor, fields=member_fields)
    invitation.accepted_by = membership.user
    invitation.save(update_fields=["accepted_by"])
    actor.audit("invitation.accepted", invitation, username=sign_in_name(membership.user))
    return membership


@transaction.atomic
def withdraw(*, acting_user: Actor, invitation: Invitation) -> None:
    """Cancel a pending invitation: its link stops working at once."""
    _check_may_invite(acting_user, invitation.role)
    acting_user.audit("invitation.withdrawn", invitation, email=invitation.email)
    invitation.delete()
