"""Health and readiness endpoints for load balancers and orchestrators."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from sofno.ops.readiness import readiness


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
