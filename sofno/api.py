"""The REST API: endpoints under /api/v1, OpenAPI at /api/openapi.json, docs at /api/docs.

One NinjaAPI assembles each app's router.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern
from ninja import NinjaAPI

from sofno.core.api import (
    ApiKeyAuth,
    ErrorOut,
    SessionAuth,
    StorableTextParser,
    install_error_handlers,
    refuse_unstorable_path,
)
from sofno.core.scoping import customer_gate

# Answers any operation may give whatever its router declares, all in our error shape:
# (status, description, when it applies).
_COMMON_ERRORS = (
    (400, "Bad Request: the body is not JSON", "body"),
    (401, "Unauthorized", "secured"),
    (413, "Payload Too Large (SOFNO_MAX_BODY_BYTES)", "body"),
    (422, "Unprocessable Entity", "input"),
    (429, "Too Many Requests (see Retry-After)", "always"),
)


def document_common_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers every operation can give (body parse, size, rate limits,
    validation) to each operation's documented responses, so clients (and schemathesis)
    see every status the API really answers."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorOut" not in components:
        error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(error_schema.pop("$defs", {}))
        components["ErrorOut"] = error_schema
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            present = {str(code) for code in responses}
            applies = {
                "always": True,
                "body": "requestBody" in operation,
                "input": "requestBody" in operation or bool(operation.get("parameters")),
                "secured": bool(operation.get("security")),
            }
            for status, description, when in _COMMON_ERRORS:
                if applies[when] and str(status) not in present:
                    responses[status] = {"description": description, **ref}
    return schema


class SofnoAPI(NinjaAPI):
    """The NinjaAPI whose OpenAPI document also lists the common error answers.

    The document depends only on the code, so it is built once per process and path
    prefix (building it walks every schema: about a second) and served from memory;
    callers must treat it as read-only.
    """

    # Operation ids are public (clients generate code from them) and ninja derives
    # them from the view's module: a router module that moved keeps its old name here.
    STABLE_MODULES = {
        "sofno.notify.channels.webhook.api": "sofno.notify.api",
        "sofno.notify.rules.api": "sofno.notify.rules_api",
    }

    def get_openapi_operation_id(self, operation) -> str:
        """``<module>_<function>`` as ninja makes it, from the module's stable name."""
        module = operation.view_func.__module__
        module = self.STABLE_MODULES.get(module, module)
        return f"{module}_{operation.view_func.__name__}".replace(".", "_")

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ):
        key = (path_prefix, tuple(sorted((path_params or {}).items())))
        cache = self.__dict__.setdefault("_openapi_documents", {})
        if key not in cache:
            built = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
            cache[key] = document_common_errors(built)
        return cache[key]  # shared: callers only read it (served as JSON)

    def _get_urls(self) -> list:
        # Path parameters never pass the parser: each view is wrapped so a NUL in one
        # answers 422 naming it (ninja has no hook for path values; _get_urls is where
        # its URL patterns are built).
        urls = super()._get_urls()
        for url in urls:
            if isinstance(url, URLPattern):
                url.callback = refuse_unstorable_path(url.callback)
        return urls


api = SofnoAPI(
    title="SOFNO API",
    version="1",
    urls_namespace="api",
    auth=[ApiKeyAuth(), SessionAuth()],
    openapi_url="/openapi.json",
    docs_url="/docs",
    parser=StorableTextParser(),
)
install_error_handlers(api)
# Every operation is staff-only for customer users unless marked @customer_access.
api.add_decorator(customer_gate)

# Each app owns its router; the order here is the order in the docs.
ROUTERS = [
    ("sofno.core.api_routes", "v1/"),
    ("sofno.directory.api", "v1/"),
    ("sofno.events.api", "v1/"),
    ("sofno.monitoring.api", "v1/"),
    ("sofno.tickets.api", "v1/"),
    ("sofno.oncall.api", "v1/"),
    ("sofno.notify.channels.webhook.api", "v1/"),
    ("sofno.notify.rules.api", "v1/"),
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
