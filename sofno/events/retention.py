"""How long the event log keeps events, and the prune that enforces it."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from sofno.core.env import env_int
from sofno.events.models import Event

DEFAULT_RETENTION_DAYS = 90


def retention_days() -> int:
    """``settings.EVENT_RETENTION_DAYS`` or ``SOFNO_EVENT_RETENTION_DAYS`` (default 90).

    Zero keeps events forever.
    """
    configured = getattr(settings, "EVENT_RETENTION_DAYS", None)
    if configured is None:
        configured = env_int("SOFNO_EVENT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    return int(configured)


def prune(days: int | None = None, now: dt.datetime | None = None, chunk: int = 5000) -> int:
    """Delete events recorded more than ``days`` ago, in chunks; returns the count.

    Deliveries, attempts and trigger rows of a pruned event go with it (cascade).
    """
    days = retention_days() if days is None else days
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted = 0
    while True:
        # Small chunks keep each transaction (and its locks) short on a busy log.
        ids = list(
            Event.objects.filter(recorded_at__lt=cutoff).values_list("id", flat=True)[:chunk]
        )
        if not ids:
            return deleted
        Event.objects.filter(id__in=ids).delete()
        deleted += len(ids)
