"""Per-request middleware: the signed-in user's organization (as an Actor), and the
request id with its access-log line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from sofno.core.access import actor_for_user
from sofno.core.logging import RequestContext, clean_request_id, current
from sofno.core.scoping import page_gate

SESSION_ORG_KEY = "sofno_organization_id"

access_log = logging.getLogger("sofno.access")


class OrganizationMiddleware:
    """Sets ``request.actor`` lazily and activates the user's own language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # ``actor`` and ``request_id`` are ours: HttpRequest does not declare them.
        request.actor = SimpleLazyObject(  # type: ignore[attr-defined]
            lambda: actor_for_user(request.user, request.session.get(SESSION_ORG_KEY))
        )
        language = _user_language(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        """Pages are staff-only for customer users unless marked ``@customer_access``."""
        page_gate(request, view_func)


def _user_language(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    profile = getattr(user, "staff_profile", None)
    return getattr(profile, "language", None) or None


class RequestLogMiddleware:
    """Gives each request an id and writes one access-log line when it is answered.

    - The id comes from a well-formed incoming ``X-Request-ID`` (nginx sets it) or is
      generated; it is echoed in the response's ``X-Request-ID``.
    - While the request is served, every log line carries the id and, once known, the
      organization (see :mod:`sofno.core.logging`).
    - It sits first in ``MIDDLEWARE`` so the duration covers everything else.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = clean_request_id(request.headers.get("x-request-id"))
        request.request_id = rid  # type: ignore[attr-defined]
        # Not reset on the way out: Django logs 4xx/5xx ("django.request") after the
        # middleware returns; request_finished clears it (below).
        current.set(RequestContext(rid, request))
        started = time.monotonic()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response["X-Request-ID"] = rid
            return response
        finally:
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                status,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": round((time.monotonic() - started) * 1000, 2),
                },
            )


def _forget_request(**kwargs: object) -> None:
    """Once the response is closed, later lines in this thread belong to no request."""
    current.set(None)


request_finished.connect(_forget_request, dispatch_uid="sofno-forget-request")
