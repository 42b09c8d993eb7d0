"""Which customer an event is about, decided once when it is recorded.

Customer users read the log narrowed to their own customer's events
(``Event.customer_ref``). The customer comes from what every event about one already
carries: a ``customer:<id>`` subject, or the payload's ``customer_id`` /
``customer.id`` (device, incident, ticket, contact and external billing events).
Events about staff matters (calls, the phone queue, timetables, webhooks) belong to
no customer even when they mention one, so they stay staff-only; so do the events a
time trigger fires (they carry the trigger, which is staff configuration).
"""

from __future__ import annotations

import uuid
from typing import Any

# Subject kinds that are staff business whatever their payload says.
STAFF_SUBJECTS = frozenset({"call", "queue", "timetable", "webhook", "consumer", "trigger"})
# Sources whose events are staff business (``events.triggers`` fires with "trigger").
STAFF_SOURCES = frozenset({"trigger"})


def _as_uuid(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str | uuid.UUID):
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(value)
    except ValueError:
        return None


def customer_of(subject: str, data: Any, source: str = "") -> uuid.UUID | None:
    """The public id of the customer an event with ``subject`` and ``data`` (recorded
    by ``source``) is about, or ``None`` (staff only)."""
    kind, _, rest = (subject or "").partition(":")
    if kind in STAFF_SUBJECTS or source in STAFF_SOURCES:
        return None
    if kind == "customer":
        return _as_uuid(rest)
    if not isinstance(data, dict):
        return None
    found = _as_uuid(data.get("customer_id"))
    if found is None and isinstance(data.get("customer"), dict):
        found = _as_uuid(data["customer"].get("id"))
    return found
