"""The REST API: endpoints under /api/v1, OpenAPI at /api/openapi.json, docs at /api/docs.

One NinjaAPI assembles each app's router.
"""

from __future__ import annotations

from ninja import NinjaAPI

from sofno.core.api import ApiKeyAuth, ErrorOut, SessionAuth, install_error_handlers

api = NinjaAPI(
    title="SOFNO API",
    version="1",
    urls_namespace="api",
    auth=[ApiKeyAuth(), SessionAuth()],
    openapi_url="/openapi.json",
    docs_url="/docs",
)
install_error_handlers(api)

# Each app owns its router; the order here is the order in the docs.
ROUTERS = [
    ("sofno.core.api_routes", "v1/"),
    ("sofno.directory.api", "v1/"),
    ("sofno.events.api", "v1/"),
    ("sofno.monitoring.api", "v1/"),
    ("sofno.tickets.api", "v1/"),
    ("sofno.oncall.api", "v1/"),
    ("sofno.notify.api", "v1/"),
]


def _mount() -> None:
    from importlib import import_module

    for dotted, prefix in ROUTERS:
        module = import_module(dotted)
        router = getattr(module, "router", None)
        if router is not None:
            api.add_router(prefix, router)


_mount()
ERROR_RESPONSES = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
