"""This app's non-page URLs: ``/ping/<key>`` for scripts and cron.

Under ``sofno serve`` the lean route in :mod:`sofno.monitoring.fastpath` answers these
before Django; this view answers the same way when Django serves them itself.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sofno.core.models import hash_secret
from sofno.core.net import client_ip
from sofno.monitoring import checkin
from sofno.monitoring.api import answer


@csrf_exempt
@require_http_methods(["GET", "POST", "HEAD"])
def ping(request: HttpRequest, key: str) -> JsonResponse:
    """A check-in by URL (no facts)."""
    if checkin.too_large(request):
        return answer(checkin.TOO_LARGE)
    if not checkin.django_limiter.allow(hash_secret(key)):
        return answer(checkin.RATE_LIMITED)
    return answer(checkin.handle(key, client_ip(request), None))


urlpatterns: list = [path("ping/<str:key>", ping, name="monitoring-ping")]
