"""Sign-in names: unique within an organization, never telling about the others.

People choose a *sign-in name* (``bob``) that must be free among the members of
their organization only. Django's ``User.username`` stays unique for the whole
server, so it holds a *handle* instead:

- the sign-in name itself when no account on the server has it yet;
- otherwise the name, ``~`` and the organization's pk (``bob~17``), with ``-2``,
  ``-3``... when even that is taken (by a former member whose account stayed).

Rules:

- ``~`` is refused by Django's username validator, so a chosen name never holds one
  and the part before ``~`` is always the sign-in name (:func:`sign_in_name`).
- Handles never reach a screen, an API answer, an event or an export: everything
  shows :func:`sign_in_name`, and every lookup of a name inside an organization
  goes through :func:`named_q` (or :func:`members_named`).
- A sign-in name is at most :data:`NAME_MAX_LENGTH` characters whatever the other
  organizations hold, so the suffix always fits in the 150 characters of
  ``username`` and the length rule itself cannot tell that a name is taken elsewhere.
- Accounts made before this module have no ``~`` in their username: each is its own
  sign-in name, so no data migration is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Left, StrIndex
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import User
    from django.db.models import QuerySet

    from sofno.core.models import Membership, Organization

SEPARATOR = "~"
NAME_MAX_LENGTH = 120
# How many accounts one typed name may stand for at sign-in (one per organization
# holding that name); bounds the password checks of one attempt.
MAX_CANDIDATES = 20


def sign_in_name(user: AbstractBaseUser | None) -> str:
    """The name ``user`` signs in with and is shown as (``""`` for nobody)."""
    if user is None:
        return ""
    return name_of_handle(user.get_username())


def name_of_handle(handle: str) -> str:
    """The sign-in name part of a ``username`` handle."""
    return handle.partition(SEPARATOR)[0]


def organization_pk_of_handle(handle: str) -> int | None:
    """The pk of the organization a suffixed handle was made in, or ``None``."""
    _name, separator, suffix = handle.partition(SEPARATOR)
    number = suffix.partition("-")[0]
    return int(number) if separator and number.isdigit() else None


def named_q(name: str, field: str = "username") -> Q:
    """Rows whose handle in ``field`` belongs to the sign-in name ``name``.

    - Exact and case-sensitive on every database: SQLite's ``LIKE`` ignores case,
      so the prefix is compared with ``=`` too (the ``startswith`` only narrows).
    - A name holding ``~`` matches nothing: it is a handle, never a sign-in name.
    """
    if not name or SEPARATOR in name:
        return Q(pk__in=[])
    prefix = name + SEPARATOR
    suffixed = Q(**{f"{field}__startswith": prefix}) & Q(
        models.lookups.Exact(Left(F(field), len(prefix)), prefix)
    )
    return Q(**{field: name}) | suffixed


def names_q(names: Iterable[str | None], field: str = "username") -> Q:
    """Rows whose handle belongs to any of ``names`` (see :func:`named_q`)."""
    found = Q(pk__in=[])
    for name in {n for n in names if isinstance(n, str) and n}:
        found |= named_q(name, field)
    return found


def sign_in_name_expression(field: str = "username") -> Case:
    """The sign-in name computed by the database, to order lists by what they show."""
    cut = Left(F(field), StrIndex(F(field), Value(SEPARATOR)) - 1)
    return Case(
        When(**{f"{field}__contains": SEPARATOR}, then=cut),
        default=F(field),
        output_field=models.CharField(),
    )


def members_named(organization: Organization, name: str) -> QuerySet[Membership]:
    """The memberships of ``organization`` whose user signs in as ``name`` (one at most
    for accounts made through :func:`claim_name`)."""
    from sofno.core.models import Membership

    return Membership.objects.filter(organization=organization).filter(
        named_q(name, "user__username")
    )


def name_taken_in(organization: Organization, name: str) -> bool:
    """Whether a member of ``organization`` already signs in as ``name``."""
    return members_named(organization, name).exists()


def taken_error() -> ValidationError:
    """The refusal of a name another member of the organization has."""
    message = _("this username is taken in this organization; choose another")
    return ValidationError({"username": ValidationError(message, code="unique")})


def check_name(organization: Organization, name: str) -> None:
    """Refuse ``name`` when it is too long for a handle or taken in ``organization``;
    what other organizations hold plays no part."""
    if len(name) > NAME_MAX_LENGTH:
        message = _("a username has at most %(limit)d characters") % {"limit": NAME_MAX_LENGTH}
        raise ValidationError({"username": ValidationError(message, code="max_length")})
    if name_taken_in(organization, name):
        raise taken_error()


def _handles(organization: Organization, name: str) -> Iterable[str]:
    yield name
    yield f"{name}{SEPARATOR}{organization.pk}"
    for number in range(2, 1000):
        yield f"{name}{SEPARATOR}{organization.pk}-{number}"


def save_with_handle(user: AbstractBaseUser, organization: Organization) -> None:
    """Save a new ``user`` (``username`` = the chosen sign-in name, validated already)
    under the first free handle for ``organization``.

    - The organization's row is locked first, so two admins adding the same name
      at once cannot both pass :func:`check_name`.
    - A handle another organization takes at the same moment is met as an
      ``IntegrityError`` in a savepoint, and the next handle is tried.
    """
    from sofno.core.models import Organization

    name = user.get_username()
    list(Organization.objects.select_for_update().filter(pk=organization.pk).values("pk"))
    check_name(organization, name)
    users = get_user_model().objects
    for handle in _handles(organization, name):
        if users.filter(username=handle).exists():
            continue
        setattr(user, get_user_model().USERNAME_FIELD, handle)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            continue
        return
    raise taken_error()  # a thousand former members of one name: unreachable in practice


def candidates(name: str) -> list[User]:
    """The accounts a name typed at sign-in may stand for (at most
    :data:`MAX_CANDIDATES`, most recently signed in first)."""
    if not name or SEPARATOR in name:
        return []
    users: QuerySet[User] = get_user_model().objects.filter(named_q(name))
    return list(users.order_by(F("last_login").desc(nulls_last=True), "pk")[:MAX_CANDIDATES])
