"""Changes to tenants, memberships and API keys: validated, atomic and audited."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sofno.core.access import Actor, PermissionDenied
from sofno.core.modeling import save_audited
from sofno.core.models import ApiKey, Membership, Role
from sofno.core.usernames import check_name, save_with_handle, sign_in_name

USER_FIELDS = ("username", "email", "first_name", "last_name")


@transaction.atomic
def issue_api_key(*, acting_user: Actor, name: str, read_only: bool = False) -> tuple[ApiKey, str]:
    """Create an API key and return it with its plain text (shown once, never stored).

    - Only an owner or admin, signed in as a person, may issue keys: a leaked key
      must not be able to mint new ones that outlive its revocation.
    """
    acting_user.require_admin()
    acting_user.require_person()
    probe = ApiKey(organization=acting_user.organization, name=name, read_only=read_only)
    probe.full_clean(exclude=["prefix", "key_hash"])
    key, plain = ApiKey.issue(
        acting_user.organization, name, read_only=read_only, created_by=acting_user.user
    )
    acting_user.audit("api_key.created", key, name=name, read_only=read_only)
    return key, plain


@transaction.atomic
def revoke_api_key(*, acting_user: Actor, key: ApiKey) -> bool:
    """Revoke a key at once; ``False`` when it was revoked already (nothing changes)."""
    acting_user.require_admin()
    changed = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if changed:
        key.refresh_from_db(fields=["revoked_at"])
        acting_user.audit("api_key.revoked", key, name=key.name)
    return bool(changed)


def _check_may_manage(actor: Actor, role: str, *, target: Membership | None = None) -> None:
    actor.require_admin()
    touches_owner = role == Role.OWNER or (target is not None and target.role == Role.OWNER)
    if touches_owner and not actor.is_owner:
        raise PermissionDenied("owner_only", _("Only an owner may grant or change the owner role."))


def _check_keeps_an_owner(membership: Membership, message: str) -> None:
    if membership.role != Role.OWNER:
        return
    # Lock the owners' rows so two owners demoting each other cannot both succeed.
    owners = Membership.objects.select_for_update().filter(
        organization_id=membership.organization_id, role=Role.OWNER
    )
    if len(owners) <= 1:
        raise ValidationError({"role": ValidationError(message, code="last_owner")})


@transaction.atomic
def create_member(*, acting_user: Actor, fields: dict[str, Any]) -> Membership:
    """Create a user and their membership of the actor's organization.

    - ``fields``: ``username`` (required; the sign-in name, unique among this
      organization's members only: see :mod:`sofno.core.usernames`), ``email``,
      ``first_name``, ``last_name``, ``password`` (optional; checked by the password
      validators; without it the user cannot sign in until one is set), ``role``.
    - Owners and admins may add members; only an owner may add an owner. The role
      is checked before the name, so lower roles cannot probe names.
    - Whether another organization has a member of the same name changes nothing
      in the answer.
    """
    role = fields.get("role", Role.AGENT)
    _check_may_manage(acting_user, role)
    user = get_user_model()(**{name: fields.get(name, "") for name in USER_FIELDS})
    # Server-wide uniqueness is the handle's business, not the chosen name's.
    user.full_clean(exclude=["password"], validate_unique=False)
    check_name(acting_user.organization, sign_in_name(user))
    password = fields.get("password") or None
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.error_list}) from None
    user.set_password(password)  # None makes an unusable password
    save_with_handle(user, acting_user.organization)
    membership = Membership(organization=acting_user.organization, user=user, role=role)
    save_audited(acting_user, membership, "member.created", username=sign_in_name(user), role=role)
    return membership


@transaction.atomic
def set_member_password(*, acting_user: Actor, membership: Membership, password: str) -> None:
    """Give a member a new password (checked by the password validators).

    - For operators: the account's ``username`` may be a handle nobody is shown, so
      ``manage changepassword`` cannot be pointed at it; this goes by membership.
    - Only an owner may set an owner's password.
    """
    _check_may_manage(acting_user, membership.role, target=membership)
    user = membership.user
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    acting_user.audit("member.password_set", membership, username=sign_in_name(user))


@transaction.atomic
def change_member_role(*, acting_user: Actor, membership: Membership, role: str) -> Membership:
    """Give a member another role; an organization always keeps one owner."""
    _check_may_manage(acting_user, role, target=membership)
    if role == membership.role:
        return membership
    if role != Role.OWNER:
        _check_keeps_an_owner(membership, _("an organization keeps at least one owner"))
    previous = membership.role
    membership.role = role
    save_audited(
        acting_user,
        membership,
        "member.role_changed",
        update_fields=["role"],
        role=role,
        previous=previous,
    )
    return membership


@transaction.atomic
def remove_member(*, acting_user: Actor, membership: Membership) -> None:
    """End a membership. The user account stays (it may belong to other
    organizations) but can no longer act in this one."""
    _check_may_manage(acting_user, membership.role, target=membership)
    _check_keeps_an_owner(membership, _("the last owner cannot be removed"))
    acting_user.audit("member.removed", membership, username=sign_in_name(membership.user))
    membership.delete()
