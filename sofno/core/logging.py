"""Structured logs: one JSON object per line, carrying the request id and organization.

Rules:
- The request being served sits in a context variable for its whole life, so every
  log line written while serving it (from any module, any logger) names its request
  id and, once the caller is known, its organization's slug.
- The organization is read only from what authentication already resolved (an API
  key's actor, or a session actor already evaluated): logging never queries.
- ``SOFNO_LOG_FORMAT=json`` (the default unless ``SOFNO_DEBUG``) or ``text``.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils.functional import empty

# A request id from a proxy is kept only if it looks like one (nginx's $request_id is
# 32 hex characters; a UUID has 36 with dashes); anything else could forge log lines.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# The attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


@dataclass
class RequestContext:
    """What the logs need to know about the request being served."""

    request_id: str
    request: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def organization(self) -> str | None:
        """The caller's organization slug, when authentication has already found it."""
        request = self.request
        if request is None:
            return self.extra.get("organization")
        for holder in (getattr(request, "auth", None), _evaluated(request, "actor")):
            organization = getattr(holder, "organization", None)
            slug: str | None = getattr(organization, "slug", None)
            if slug:
                return slug
        return self.extra.get("organization")


def _evaluated(request: Any, name: str) -> Any:
    """``request.<name>`` if it is a lazy object already evaluated (never evaluate it)."""
    value = request.__dict__.get(name)
    if value is None:
        return None
    wrapped = getattr(value, "_wrapped", value)
    return None if wrapped is empty else wrapped


current: ContextVar[RequestContext | None] = ContextVar("sofno_request", default=None)


def clean_request_id(raw: str | None) -> str:
    """The incoming ``X-Request-ID`` if well-formed, else a fresh random id."""
    if raw and _REQUEST_ID.match(raw):
        return raw
    return uuid.uuid4().hex


def request_id() -> str | None:
    """The id of the request being served, if any."""
    ctx = current.get()
    return ctx.request_id if ctx else None


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``organization`` to every record written during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = current.get()
        if ctx is not None:
            if not getattr(record, "request_id", None):
                record.request_id = ctx.request_id
            if not getattr(record, "organization", None):
                record.organization = ctx.organization
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """A readable line for a terminal, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{line} [{rid}]" if rid else line


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """The ``LOGGING`` dict for ``json`` or ``text`` output on stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": "sofno.core.logging.RequestContextFilter"}},
        "formatters": {
            "json": {"()": "sofno.core.logging.JsonFormatter"},
            "text": {"()": "sofno.core.logging.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "huey": {"level": "WARNING"},
            "django.db.backends": {"level": "INFO"},
            # Our access line replaces Django's own per-request lines.
            "django.server": {"level": "WARNING"},
        },
    }
