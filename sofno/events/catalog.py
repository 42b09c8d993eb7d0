"""The event catalog: every event type SOFNO knows, with the tokens its payload carries.

Apps register their own types from ``AppConfig.ready``; organizations add custom
types (stored in the database, owned by the events app).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Token:
    """A named field of an event's payload, usable in templates as ``{{ name }}``."""

    name: str
    type: str  # "string", "integer", "number", "boolean", "datetime", "object"
    description: str = ""
    example: object = None


@dataclass(frozen=True)
class EventType:
    """A kind of event: ``device.offline``, ``invoice.overdue``, ..."""

    name: str
    description: str
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
