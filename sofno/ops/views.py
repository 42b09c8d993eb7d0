"""Health and readiness endpoints for load balancers and orchestrators, and metrics."""

from __future__ import annotations

import hmac
import sys

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from sofno.ops import metrics as metrics_module
from sofno.ops.middleware import DATABASE_DOWN, database_unavailable
from sofno.ops.readiness import readiness


def server_error(request: HttpRequest) -> HttpResponse:
    """The ``handler500``: a database outage or a full connection pool met outside a
    view (a middleware reading the session) answers 503 like one met in a view;
    anything else is Django's plain 500 page."""
    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_DOWN):
        return database_unavailable(exception)
    return defaults.server_error(request)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive; touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """The database and the queue are reachable: 200, or 503 naming what is not."""
    probes = readiness()
    ready = all(p.ok for p in probes)
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {p.name: {"ok": p.ok, "detail": p.detail, "seconds": p.seconds} for p in probes},
    }
    return JsonResponse(body, status=200 if ready else 503)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, only for ``Authorization: Bearer <SOFNO_METRICS_TOKEN>``.

    - No token configured: 404, as if there were no such page.
    - A missing or wrong token: 401 (compared in constant time).
    """
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("metrics are disabled")
    scheme, _sep, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        response = HttpResponse("401 Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_module.exposition(), content_type=metrics_module.CONTENT_TYPE)
