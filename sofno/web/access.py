"""Access helpers for pages: the actor, or a clear 403 for a signed-in outsider."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from sofno.core.access import Actor


def require_actor(request: HttpRequest) -> Actor:
    """The request's actor; 403 when the user belongs to no organization."""
    actor = request.actor
    if not actor:
        raise PermissionDenied("You are not a member of any organization.")
    return actor


def require_writer(request: HttpRequest) -> Actor:
    """The request's actor when its role may change records; 403 otherwise."""
    actor = require_actor(request)
    if not actor.can_write:
        raise PermissionDenied("Your role may only read.")
    return actor
