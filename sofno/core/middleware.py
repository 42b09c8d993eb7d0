"""Attach the signed-in user's organization (as an Actor) to each request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from sofno.core.access import actor_for_user

SESSION_ORG_KEY = "sofno_organization_id"


class OrganizationMiddleware:
    """Sets ``request.actor`` lazily and activates the user's own language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = SimpleLazyObject(
            lambda: actor_for_user(request.user, request.session.get(SESSION_ORG_KEY))
        )
        language = _user_language(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def _user_language(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    profile = getattr(user, "staff_profile", None)
    return getattr(profile, "language", None) or None
