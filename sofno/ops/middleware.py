"""Limits applied before any view runs, and the API's error shape for what ninja answers
in plain text.

Rules:
- A body larger than ``SOFNO_MAX_BODY_BYTES`` (``SOFNO_MAX_UPLOAD_BYTES`` for
  ``multipart/form-data`` uploads) answers 413 without being read.
- API calls are counted and refused with 429 and ``Retry-After`` over their rate
  (see :mod:`sofno.ops.throttle`).
- Under ``/api/``, a 404/405 that is not already JSON is rewritten into our error
  shape (``{"code", "message", "errors"}``), keeping the ``Allow`` header.
- A page path with a NUL character (``%00``) answers 404: no object is named so, and
  PostgreSQL refuses such text in a query (the API answers 422 naming the parameter).
- While the database cannot be reached, requests answer 503 with ``Retry-After``
  (a passing outage, not a server bug), in the error shape. So does a request that
  waited ``SOFNO_DB_POOL_TIMEOUT`` for a connection of this process's full pool
  (code ``busy``, a shorter ``Retry-After``). A failure raised outside a view (in a
  middleware that reads the session) gets the same answer through
  :func:`sofno.ops.views.server_error`.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from sofno.core import access
from sofno.ops import throttle

API_PREFIX = "/api/"
DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_OUTAGE = 5
RETRY_AFTER_BUSY = 2


def pool_exhausted(exception: BaseException) -> bool:
    """Whether ``exception`` is a wait for a pooled connection that timed out while
    the pool had connections (all busy), rather than none it could open (an outage)."""
    try:
        from psycopg_pool import PoolTimeout
    except ImportError:  # no pool installed: every failure is an outage
        return False
    seen: BaseException | None = exception
    while seen is not None and not isinstance(seen, PoolTimeout):
        seen = seen.__cause__ or seen.__context__
    if seen is None:
        return False
    pool = getattr(connection, "pool", None)
    return pool is None or pool.get_stats().get("pool_size", 1) > 0


def database_unavailable(exception: BaseException | None = None) -> HttpResponse:
    """503 while the database cannot be reached or this process's connections are all
    busy: clients should retry, not give up."""
    if exception is not None and pool_exhausted(exception):
        message = _("The server is busy; retry in a moment.")
        response = error_response(503, "busy", message)
        response["Retry-After"] = str(RETRY_AFTER_BUSY)
        return response
    message = _("The database cannot be reached right now; retry in a few seconds.")
    response = error_response(503, "unavailable", message)
    response["Retry-After"] = str(RETRY_AFTER_OUTAGE)
    return response


def error_response(
    status: int, code: str, message: str, errors: list | None = None
) -> HttpResponse:
    """A JSON answer in the API's error shape."""
    return JsonResponse({"code": code, "message": message, "errors": errors or []}, status=status)


def body_limit(request: HttpRequest) -> int:
    """The largest body this request may carry."""
    if request.content_type == "multipart/form-data":
        return settings.MAX_UPLOAD_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _too_large(request: HttpRequest, size: int, limit: int) -> HttpResponse:
    message = _("The request body is %(size)d bytes; at most %(limit)d are accepted.") % {
        "size": size,
        "limit": limit,
    }
    if request.path.startswith(API_PREFIX):
        error = {"field": "body", "rule": "max_size", "message": message}
        return error_response(413, "payload_too_large", message, [error])
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class AbuseLimitMiddleware:
    """Body size limits, API rate limits and the API's JSON 404/405."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        limit = body_limit(request)
        if size > limit:
            return _too_large(request, size, limit)
        if "\x00" in request.path_info and not request.path.startswith(API_PREFIX):
            return HttpResponse(_("Not found."), status=404, content_type="text/plain")
        is_api = request.path.startswith(API_PREFIX + "v1/")
        if is_api:
            try:
                refused = throttle.check_api(request)
            except DATABASE_DOWN as exc:
                return database_unavailable(exc)
            if refused is not None:
                return self._rate_limited(*refused)
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX) and response.status_code in (404, 405):
            response = self._as_json_error(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        """A view that lost the database answers 503; an action the role may not take
        answers 403 (pages: a form a role should not have used); anything else stays
        a 500."""
        if isinstance(exception, DATABASE_DOWN):
            return database_unavailable(exception)
        if isinstance(exception, access.PermissionDenied):
            if request.path.startswith(API_PREFIX):
                return error_response(403, exception.code, exception.message)
            return HttpResponse(
                exception.message, status=403, content_type="text/plain; charset=utf-8"
            )
        return None

    def _rate_limited(self, name: str, verdict: throttle.Verdict) -> HttpResponse:
        if name == "auth":
            message = _(
                "Too many failed authentications from your address; retry in %(s)d seconds."
            )
        elif name == "events":
            message = _("Too many events posted with this key; retry in %(s)d seconds.")
        else:
            message = _("Too many API requests with this key; retry in %(s)d seconds.")
        response = error_response(429, "rate_limited", message % {"s": verdict.retry_after})
        response["Retry-After"] = str(verdict.retry_after)
        return response

    def _as_json_error(self, response: HttpResponse) -> HttpResponse:
        if response.get("Content-Type", "").startswith("application/json"):
            try:
                if "code" in json.loads(response.content):
                    return response
            except (ValueError, TypeError, AttributeError):
                pass
        if response.status_code == 404:
            return error_response(404, "not_found", _("Not found."))
        allowed = response.get("Allow", "")
        message = _("This method is not allowed here; allowed: %(allowed)s.") % {
            "allowed": allowed or "-"
        }
        json_response = error_response(405, "method_not_allowed", message)
        if allowed:
            json_response["Allow"] = allowed
        return json_response
