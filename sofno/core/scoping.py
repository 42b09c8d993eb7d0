"""Customer users see their own customer and nothing else: one mechanism for every
endpoint, page and query.

A customer user is a membership with the ``customer`` role, linked to exactly one
customer (``directory.CustomerUser``). Two rules keep them in their lane:

- **Endpoints and pages are staff-only unless they say otherwise.** Every API
  operation (through :func:`customer_gate`, installed once on the API) and every page
  (through :func:`page_gate`, run by the organization middleware) answers a customer
  user ``403`` (code ``staff_only``) unless its view is marked with
  :func:`customer_access`. A new endpoint is therefore closed to customer users until
  someone decides it is theirs to see.
- **What an open endpoint reads goes through** :func:`visible_to`. Each model a
  customer user may read declares how it belongs to a customer: ``customer_scope``,
  a lookup path to the customer (``"customer"``, ``"device__customer"``, ``"pk"`` for
  the customer itself), and optionally ``customer_scope_key``, the customer field that
  path holds (``"pk"`` by default, ``"public_id"`` for the event log). A model that
  belongs to one person instead (an inbox item) declares ``user_scope``, the lookup
  to that user. A model with neither yields nothing to a customer user. Another
  customer's object is then simply not found (``404``), never shown.
  ``get_scoped_or_404`` goes through it too, so every detail lookup is covered.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied as PageDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from sofno.core.access import Actor, PermissionDenied

M = TypeVar("M", bound=Model)
F = TypeVar("F", bound=Callable[..., Any])

_MARK = "sofno_customer_access"


def customer_access(view: F) -> F:
    """Open an API operation or a page to customer users.

    The view must then read only through :func:`visible_to` (or a selector built on
    it) so that a customer user sees their own customer's records only.
    """
    setattr(view, _MARK, True)
    return view


def allows_customers(view: Callable[..., Any] | None) -> bool:
    """Whether ``view`` (or a function it wraps) was marked with :func:`customer_access`."""
    seen = 0
    while view is not None and seen < 20:
        if getattr(view, _MARK, False):
            return True
        # Class-based views: ``as_view()`` keeps the class on ``view_class``.
        view_class = getattr(view, "view_class", None)
        if view_class is not None and getattr(view_class, _MARK, False):
            return True
        view = getattr(view, "__wrapped__", None)
        seen += 1
    return False


def staff_only_denial() -> PermissionDenied:
    """The API's answer to a customer user on a staff-only endpoint."""
    return PermissionDenied("staff_only", _("Customer users may not see this."))


def customer_gate(view_func: F) -> F:
    """Ninja operation decorator (installed with ``api.add_decorator``): a customer
    user reaching an operation not marked :func:`customer_access` gets 403."""
    if allows_customers(view_func):
        return view_func

    @wraps(view_func)
    def staff_only(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        who = getattr(request, "auth", None)
        if isinstance(who, Actor) and who.is_customer_user:
            raise staff_only_denial()
        return view_func(request, *args, **kwargs)

    return staff_only  # type: ignore[return-value]


def page_gate(request: HttpRequest, view_func: Callable[..., Any]) -> None:
    """Refuse (403) a page not marked :func:`customer_access` to a signed-in customer user.

    API operations are gated one by one by :func:`customer_gate` instead (the URL
    resolver only sees ninja's dispatcher there).
    """
    match = getattr(request, "resolver_match", None)
    if match is not None and "api" in match.namespaces:
        return
    if allows_customers(view_func):
        return
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    who = getattr(request, "actor", None)
    if who and who.is_customer_user:
        raise PageDenied(_("Customer users may not see this page."))


def own_customers(actor: Actor, key: str = "pk") -> QuerySet[Any, dict[str, Any]]:
    """The ``key`` values (``pk`` or ``public_id``) of the customers a customer user
    is linked to (at most one), as a subquery."""
    assert actor.user is not None  # an API key is no customer user (see visible_to)
    links = actor.user.customer_links.filter(organization=actor.organization)
    keys: QuerySet[Any, dict[str, Any]] = links.values(
        "customer_id" if key == "pk" else f"customer__{key}"
    )
    return keys


def visible_to(actor: Actor, queryset: QuerySet[M]) -> QuerySet[M]:
    """``queryset`` narrowed to what ``actor`` may read: the organization's rows, and
    for a customer user only the rows of their own customer (none for a model that
    does not declare ``customer_scope``)."""
    model = queryset.model
    rows = queryset.filter(organization=actor.organization)
    if not actor.is_customer_user:
        return rows
    path = getattr(model, "customer_scope", None)
    if actor.user is None:
        return rows.none()
    if not path:
        user_path = getattr(model, "user_scope", None)
        return rows.filter(**{user_path: actor.user}) if user_path else rows.none()
    key = getattr(model, "customer_scope_key", "pk")
    lookup = "pk__in" if path == "pk" else f"{path}__in"
    return rows.filter(**{lookup: own_customers(actor, key)})
