"""Who is acting, in which organization, and what they may do.

Views and API endpoints get an :class:`Actor` (from a session membership or an API
key) and scope every query through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from sofno.core.models import ADMIN_ROLES, WRITE_ROLES, ApiKey, AuditEntry, Organization, Role

M = TypeVar("M", bound=Model)


class PermissionDenied(Exception):
    """The actor may read but not do this (403).

    ``code`` is machine-readable (``read_only``, ``admin_only``, ...); ``message``
    says why to a person.
    """

    def __init__(self, code: str = "forbidden", message: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.message = message or _("Your role may not do this.")


@dataclass
class Actor:
    """A user acting through a membership, or an API key acting for its organization."""

    organization: Organization
    role: str
    user: User | None = None
    api_key: ApiKey | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def can_write(self) -> bool:
        if self.api_key is not None:
            return not self.api_key.read_only
        return self.role in WRITE_ROLES

    @property
    def is_admin(self) -> bool:
        if self.api_key is not None:
            return not self.api_key.read_only
        return self.role in ADMIN_ROLES

    @property
    def is_owner(self) -> bool:
        # An API key is never an owner: it cannot grant or take away ownership.
        return self.api_key is None and self.role == Role.OWNER

    @property
    def is_customer_user(self) -> bool:
        return self.role == Role.CUSTOMER

    def require_write(self) -> None:
        """Raise :class:`PermissionDenied` unless the actor may change records."""
        if not self.can_write:
            raise PermissionDenied("read_only", _("This role or key may only read."))

    def require_admin(self) -> None:
        """Raise :class:`PermissionDenied` unless the actor administers the organization."""
        if not self.is_admin:
            raise PermissionDenied("admin_only", _("Only an owner or admin may do this."))

    def require_staff(self) -> None:
        """Raise :class:`PermissionDenied` for a customer user (staff-only data)."""
        if self.is_customer_user:
            raise PermissionDenied("staff_only", _("Customer users may not see this."))

    def require_person(self) -> None:
        """Raise :class:`PermissionDenied` for an API key (a signed-in person is needed)."""
        if self.user is None:
            raise PermissionDenied(
                "person_only", _("This needs a signed-in person, not an API key.")
            )

    def audit(self, action: str, obj: Model, **detail: object) -> AuditEntry:
        """Record that this actor did ``action`` to ``obj``."""
        return AuditEntry.objects.create(
            organization=self.organization,
            actor_user=self.user,
            actor_api_key=self.api_key,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(getattr(obj, "public_id", obj.pk)),
            detail=detail,
        )


def actor_for_api_key(plain: str) -> Actor | None:
    """The actor behind an API key, or ``None`` for an unknown or revoked key."""
    key = ApiKey.find(plain)
    if key is None:
        return None
    # Touch at most once a minute so a busy key does not write on every request.
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    role = Role.VIEWER if key.read_only else Role.ADMIN
    return Actor(organization=key.organization, role=role, api_key=key)


def actor_for_user(user: User | AnonymousUser, organization_id: int | None = None) -> Actor | None:
    """The actor for a signed-in user in their chosen (or first) organization."""
    if not user.is_authenticated:
        return None
    memberships = user.memberships.select_related("organization").order_by("id")
    if organization_id is not None:
        memberships = memberships.filter(organization_id=organization_id)
    membership = memberships.first()
    if membership is None:
        return None
    return Actor(organization=membership.organization, role=membership.role, user=user)


def get_scoped_or_404(queryset: QuerySet[M], actor: Actor, **lookup: object) -> M:
    """One object of the actor's organization, or 404 (never another tenant's, and
    for a customer user never another customer's: see :mod:`sofno.core.scoping`)."""
    from sofno.core.scoping import visible_to  # scoping builds on this module

    try:
        return visible_to(actor, queryset).get(**lookup)
    except (ObjectDoesNotExist, ValueError) as exc:
        raise Http404(queryset.model._meta.verbose_name) from exc
