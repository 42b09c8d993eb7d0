"""Access helpers for pages: the actor, or a clear 403 for a signed-in outsider."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from sofno.core.access import Actor, actor_for_user
from sofno.core.middleware import SESSION_ORG_KEY


def require_actor(request: HttpRequest) -> Actor:
    """The request's actor; 403 when the user belongs to no organization."""
    actor = request.actor
    if not actor and request.session.pop(SESSION_ORG_KEY, None) is not None:
        # The organization chosen in the switcher is no longer theirs (membership
        # removed): fall back to their first one instead of locking them out.
        actor = request.actor = actor_for_user(request.user)
    if not actor:
        raise PermissionDenied(_("You are not a member of any organization."))
    return actor


def same_site_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` a form or link asked for when it stays on this site, else ``fallback``.

    - Only this host (and https when the request is https) counts as this site, so a
      crafted link cannot send a signed-in person elsewhere (an open redirect).
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else fallback


def require_writer(request: HttpRequest) -> Actor:
    """The request's actor when its role may change records; 403 otherwise."""
    actor = require_actor(request)
    if not actor.can_write:
        raise PermissionDenied(_("Your role may only read."))
    return actor
