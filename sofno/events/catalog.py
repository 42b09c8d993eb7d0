"""The event catalog: every event type SOFNO knows, with the tokens its payload carries.

Apps register their own types from ``AppConfig.ready``; organizations add custom
types (stored in the database, owned by the events app).

Built-in descriptions are lazy translations (``gettext_lazy``): they read in the
language active where they are shown. A custom type's description is kept as typed.
Anything that needs a plain ``str`` (an API schema, JSON) calls ``str()`` on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Models are imported where used: this module loads before the app registry.
    from django_stubs_ext import StrPromise

    from sofno.core.models import Organization
    from sofno.events.models import CustomEventType


@dataclass(frozen=True)
class Token:
    """A named field of an event's payload, usable in templates as ``{{ name }}``."""

    name: str
    type: str  # "string", "integer", "number", "boolean", "datetime", "object"
    description: str | StrPromise = ""
    example: object = None


@dataclass(frozen=True)
class EventType:
    """A kind of event: ``device.offline``, ``invoice.overdue``, ..."""

    name: str
    description: str | StrPromise
    tokens: tuple[Token, ...] = field(default_factory=tuple)
    category: str = ""


BUILTIN: dict[str, EventType] = {}


def register(*event_types: EventType) -> None:
    """Add built-in event types to the catalog (idempotent)."""
    for event_type in event_types:
        BUILTIN[event_type.name] = event_type


def builtin(name: str) -> EventType | None:
    """The built-in event type called ``name``, if any."""
    return BUILTIN.get(name)


NAME_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"
TOKEN_TYPES = ("string", "integer", "number", "boolean", "datetime", "object", "array")


def matches(patterns: list[str] | tuple[str, ...], name: str) -> bool:
    """Whether ``name`` passes a subscription filter.

    - an empty filter passes every type;
    - ``invoice.*`` passes every type starting with ``invoice.``;
    - ``*`` passes everything; anything else must be equal.
    """
    if not patterns:
        return True
    for pattern in patterns:
        if pattern == "*" or pattern == name:
            return True
        if pattern.endswith(".*") and name.startswith(pattern[:-1]):
            return True
    return False


def for_organization(organization: Organization) -> dict[str, EventType]:
    """Every type an organization can use: the built-in ones and its custom ones."""
    from sofno.events.models import CustomEventType

    types = dict(BUILTIN)
    for custom in CustomEventType.objects.filter(organization=organization):
        types[custom.name] = to_event_type(custom)
    return types


def to_event_type(custom: CustomEventType) -> EventType:
    """The catalog entry for a stored custom type."""
    tokens = tuple(
        Token(t["name"], t.get("type", "string"), t.get("description", ""), t.get("example"))
        for t in custom.tokens or []
    )
    return EventType(custom.name, custom.description, tokens, custom.category or "custom")


def known(organization: Organization, name: str) -> bool:
    """Whether ``name`` is a built-in type or one of the organization's custom types."""
    from sofno.events.models import CustomEventType

    if name in BUILTIN:
        return True
    return CustomEventType.objects.filter(organization=organization, name=name).exists()


def unknown_patterns(organization: Organization, patterns: list[str]) -> list[str]:
    """The filter entries that name no known type (wildcards always pass)."""
    names = set(for_organization(organization))
    return [p for p in patterns if p != "*" and not p.endswith(".*") and p not in names]
