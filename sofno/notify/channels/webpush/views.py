"""The service worker that receives web pushes, served at the site's root."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse

from sofno.core.scoping import customer_access


@customer_access
def service_worker(request: HttpRequest) -> HttpResponse:
    """``/sw.js``: our service worker, served at the root so its scope is the whole site."""
    path = finders.find("notify/sw.js")
    with open(path, encoding="utf-8") as source:
        body = source.read()
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"  # browsers check for a new worker on each visit
    return response
