"""The installable web app: its manifest and home-screen icons.

With these (and the service worker at ``/sw.js``), phones offer "Add to home
screen"; iPhones deliver web push only to a web app installed that way.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from sofno.core.scoping import customer_access
from sofno.web import icons

THEME = "#212529"


@require_GET
@customer_access  # public: the browser fetches it before anyone signs in
@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> JsonResponse:
    """``/manifest.webmanifest``: name, start page, colours and icons."""
    pictures = [
        {
            "src": reverse("web:app-icon", args=[size]),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "any maskable",
        }
        for size in icons.SIZES
        if size != 180  # 180 px is the iPhone's, named in the page head
    ]
    body = {
        "name": "SOFNO",
        "short_name": "SOFNO",
        "description": _("Incidents, devices and on-call duty of your customers"),
        "id": "/",
        "start_url": reverse("web:dashboard"),
        "scope": "/",
        "display": "standalone",
        "background_color": THEME,
        "theme_color": THEME,
        "lang": request.LANGUAGE_CODE,
        "icons": pictures,
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
@customer_access  # public, like the manifest that names it
@cache_control(max_age=86400)
def app_icon(request: HttpRequest, size: int) -> HttpResponse:
    """``/icons/<size>.png``: the home-screen icon in one of the offered sizes."""
    if size not in icons.SIZES:
        raise Http404
    return HttpResponse(icons.icon_png(size), content_type="image/png")


patterns = [
    path("manifest.webmanifest", manifest, name="app-manifest"),
    path("icons/<int:size>.png", app_icon, name="app-icon"),
]
