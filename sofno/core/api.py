"""The API's shared parts: authentication, the error shape and its handlers.

Every error answers ``{"code": ..., "message": ..., "errors": [...]}``; validation
errors (422) list each field with the rule it broke.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer

from sofno.core.access import Actor, PermissionDenied, actor_for_api_key, actor_for_user
from sofno.core.middleware import SESSION_ORG_KEY


class FieldError(Schema):
    field: str
    rule: str
    message: str


class ErrorItem(TypedDict):
    """One entry of an error's ``errors`` list (the shape of :class:`FieldError`)."""

    field: str
    rule: str
    message: str


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[FieldError] = []


# The error answers every operation may give, in the one shape above: 400 unreadable
# body, 401 no credentials, 403 not allowed, 404 not this organization's, 409
# conflicts with what is stored, 422 a field breaks a rule. Routers declare it with
# their success answer: ``response={200: Out, **ERRORS}``.
ERRORS: dict[int, type[ErrorOut]] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422)}


class ApiKeyAuth(HttpBearer):
    """``Authorization: Bearer <key>`` with an organization's API key."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        return actor_for_api_key(token)


class SessionAuth(APIKeyCookie):
    """The web session, so pages can call the API; CSRF-checked for writes.

    - Only a request that carries the session cookie is CSRF-checked, so a call
      with a bad or revoked key answers 401, not a confusing CSRF 403.
    - A request with a ``Bearer`` token is never taken as a session (other schemes,
      such as a proxy's Basic auth, are not ours and do not count).
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Actor | None:
        bearer = request.headers.get("authorization", "").lower().startswith("bearer")
        if bearer or self.param_name not in request.COOKIES:
            return None
        return super().__call__(request)

    def _get_key(self, request: HttpRequest) -> str | None:
        try:
            return super()._get_key(request)
        except HttpError:
            raise ApiError(
                403, "csrf_failed", _("CSRF check failed: send the X-CSRFToken header."), []
            ) from None

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        return actor_for_user(request.user, request.session.get(SESSION_ORG_KEY))


def actor(request: HttpRequest) -> Actor:
    """The authenticated actor of an API request."""
    who: Actor = request.auth  # type: ignore[attr-defined]  # set by ninja's auth
    return who


def error(code: str, message: str, status: int, errors: list[ErrorItem] | None = None) -> HttpError:
    """An :class:`ApiError` carrying our error shape."""
    return ApiError(status, code, message, errors or [])


class ApiError(HttpError):
    def __init__(self, status: int, code: str, message: str, errors: list[ErrorItem]) -> None:
        super().__init__(status, message)
        self.code = code
        self.errors = errors


def field_error(field: str, rule: str, message: str) -> ApiError:
    """A 422 naming one field and the rule it broke."""
    return ApiError(
        422,
        "validation_error",
        f"{field}: {message}",
        [{"field": field, "rule": rule, "message": message}],
    )


def from_django_validation(exc: DjangoValidationError) -> ApiError:
    """Turn a model's ``full_clean`` error into our 422 shape."""
    errors: list[ErrorItem] = []
    if hasattr(exc, "error_dict"):
        for field, field_errors in exc.error_dict.items():
            for err in field_errors:
                message = " ".join(err.messages)
                errors.append({"field": field, "rule": err.code or "invalid", "message": message})
    else:
        errors.append({"field": "__all__", "rule": "invalid", "message": " ".join(exc.messages)})
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return ApiError(422, "validation_error", summary, errors)


def unstorable_text(data: Any) -> tuple[str, str] | None:
    """The first string (value or key) in ``data`` that no database can store, as
    ``(field path, rule)``; ``None`` when all text is storable.

    - ``nul_character``: a NUL (``\\x00``), which PostgreSQL refuses in text;
    - ``string_unicode``: a lone UTF-16 surrogate (``\\ud800``), which is not Unicode
      text at all and cannot be encoded as UTF-8 by either database driver.

    Walks iteratively, so a deeply nested body cannot exhaust the stack here.
    """
    stack: list[tuple[tuple[str, ...], Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            rule = _text_rule(value)
            if rule:
                return ".".join(path) or "body", rule
        elif isinstance(value, dict):
            for key, item in value.items():
                rule = _text_rule(key) if isinstance(key, str) else None
                if rule:
                    return ".".join((*path, "<key>")) or "body", rule
                stack.append(((*path, str(key)), item))
        elif isinstance(value, list | tuple):
            stack.extend(((*path, str(index)), item) for index, item in enumerate(value))
    return None


def _text_rule(text: str) -> str | None:
    if "\x00" in text:
        return "nul_character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "string_unicode"
    return None


_TEXT_MESSAGES = {
    "nul_character": gettext_lazy("text may not contain NUL (\\x00) characters"),
    "string_unicode": gettext_lazy("text may not contain lone surrogates (invalid Unicode)"),
}


def text_error(found: tuple[str, str]) -> ApiError:
    """The 422 for text no database can store, naming where it was found."""
    field, rule = found
    return field_error(field, rule, str(_TEXT_MESSAGES[rule]))


class StorableTextParser(Parser):
    """The API's request parser: JSON bodies, query strings and forms, with one rule
    for every field of every endpoint: text no database can store answers 422 naming
    the field (see :func:`unstorable_text`), before any schema or query sees it."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        found = unstorable_text(data)
        if found:
            # ninja turns any exception here into a 400; on_http_error unwraps this one.
            raise text_error(found)
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        result = super().parse_querydict(data, list_fields, request)
        found = unstorable_text(result)
        if found:
            raise text_error(found)
        return result


def refuse_unstorable_path(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an API view so a path parameter with text no database can store (``%00``)
    answers 422 naming that parameter, as the parser does for bodies and queries."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        for name, value in kwargs.items():
            found = unstorable_text(value)
            if found:
                error = text_error((name, found[1]))
                body = {"code": error.code, "message": str(error), "errors": error.errors}
                return JsonResponse(body, status=422)
        return view(request, *args, **kwargs)

    return wrapper


def _loc_to_field(loc: list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "header")]
    return ".".join(parts) or "body"


def install_error_handlers(api: NinjaAPI) -> None:
    """Make every failure answer our error shape instead of ninja's or a 500."""

    def respond(
        request: HttpRequest,
        status: int,
        code: str,
        message: str,
        errors: list[ErrorItem] | None = None,
    ) -> HttpResponse:
        body = {"code": code, "message": message, "errors": errors or []}
        return api.create_response(request, body, status=status)

    @api.exception_handler(NinjaValidationError)
    def on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors: list[ErrorItem] = [
            {
                "field": _loc_to_field(list(err.get("loc", []))),
                "rule": err.get("type", "invalid"),
                "message": str(err.get("msg", "invalid")).removeprefix("Value error, "),
            }
            for err in exc.errors
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return respond(request, 422, "validation_error", summary, errors)

    @api.exception_handler(ApiError)
    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return respond(request, exc.status_code, exc.code, str(exc), exc.errors)

    @api.exception_handler(DjangoValidationError)
    def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        err = from_django_validation(exc)
        return respond(request, 422, err.code, str(err), err.errors)

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, "not_found", _("Not found."))

    @api.exception_handler(PermissionDenied)
    def on_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return respond(request, 403, exc.code, exc.message)

    @api.exception_handler(AuthenticationError)
    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return respond(request, 401, "unauthorized", _("A valid API key or session is required."))

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, ApiError):
            # Raised by our parser inside ninja's body parsing, which wraps it in a 400.
            return on_api_error(request, exc.__cause__)
        if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
            # ninja's parser: a body that is not JSON (or not UTF-8, or too deep).
            error: ErrorItem = {"field": "body", "rule": "json_invalid", "message": str(exc)}
            return respond(request, 400, "bad_request", str(exc), [error])
        return respond(request, exc.status_code, "error", str(exc))

    @api.exception_handler(ProtectedError)
    @api.exception_handler(RestrictedError)
    def on_in_use(request: HttpRequest, exc: ProtectedError | RestrictedError) -> HttpResponse:
        # Another app's rows still point at the object (PROTECT/RESTRICT foreign keys).
        if isinstance(exc, ProtectedError):
            objects = exc.protected_objects
        else:
            objects = exc.restricted_objects
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in objects})
        message = _("Still in use by %(kinds)s; remove or move those first.") % {
            "kinds": ", ".join(kinds)
        }
        return respond(request, 409, "in_use", message)

    @api.exception_handler(DataError)
    def on_data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
        # A value the database refuses (out of range, bad encoding) that slipped past
        # the schemas: the client's input, so a 422, never a 500.
        return respond(request, 422, "validation_error", _("A value is out of range or invalid."))

    @api.exception_handler(IntegrityError)
    def on_integrity(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # Constraint races that slipped past validation: a conflict, never a 500.
        return respond(request, 409, "conflict", _("The change conflicts with existing data."))
