"""A tiny, safe token substitution: ``{{ customer.name }}`` from an event's payload.

No template engine: only dotted names are looked up, nothing is evaluated, and a
missing token becomes the empty string.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sofno.events.triggers import lookup

TOKEN = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")


def render(text: str, context: dict[str, Any]) -> str:
    """Replace every ``{{ name.path }}`` in ``text`` with its value in ``context``."""

    def value(match: re.Match) -> str:
        found = lookup(context, match.group(1))
        if found is None:
            return ""
        if isinstance(found, dict | list):
            return json.dumps(found, separators=(",", ":"))
        if isinstance(found, bool):
            return "true" if found else "false"
        return str(found)

    return TOKEN.sub(value, text)


def event_context(event) -> dict[str, Any]:
    """The names a token may use: the payload's fields, plus ``event.*``."""
    return {
        **(event.payload or {}),
        "event": {
            "id": str(event.public_id),
            "type": event.type,
            "subject": event.subject,
            "sequence": event.sequence,
            "occurred_at": event.occurred_at.isoformat(),
        },
    }
