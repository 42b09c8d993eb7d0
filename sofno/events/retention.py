"""How long the event log keeps events, the prune that enforces it, and the batched
delete every prune uses.

Every growing table is pruned the same way, on SQLite and PostgreSQL alike: rows are
deleted a small chunk at a time, each chunk its own short transaction, until none is
left or the run's time budget is spent (the next run goes on where this one
stopped). No long lock is held, so check-ins and deliveries keep flowing meanwhile,
and PostgreSQL's autovacuum reuses the freed space instead of the table growing.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from sofno.core.env import env_int
from sofno.events.models import Event

DEFAULT_RETENTION_DAYS = 90
# Rows per delete, seconds per prune run (the rest waits for the next run), and the
# least pause between two chunks (it also rests twice as long as a chunk took), which
# leaves the database to the check-ins and deliveries.
CHUNK = 500
BUDGET_SECONDS = 120.0
PAUSE_SECONDS = 0.05


def retention_days() -> int:
    """``settings.EVENT_RETENTION_DAYS`` or ``SOFNO_EVENT_RETENTION_DAYS`` (default 90).

    Zero keeps events forever.
    """
    configured = getattr(settings, "EVENT_RETENTION_DAYS", None)
    if configured is None:
        configured = env_int("SOFNO_EVENT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    return int(configured)


def delete_in_batches(
    queryset: QuerySet[Any],
    chunk: int = CHUNK,
    budget: float = BUDGET_SECONDS,
    pause: float = PAUSE_SECONDS,
) -> tuple[int, bool]:
    """Delete the rows of ``queryset`` ``chunk`` at a time; returns (deleted, finished).

    - each chunk is one short transaction (its ids picked first, then deleted with
      their cascades), so no lock outlives a chunk;
    - between chunks it rests at least ``pause`` seconds and twice as long as the
      chunk took, so a prune never takes more than a third of the database's time
      from the check-ins and deliveries;
    - stops when no row is left (``finished``) or after ``budget`` seconds.
    """
    model = queryset.model
    stop = time.monotonic() + budget
    deleted = 0
    while True:
        started = time.monotonic()
        with transaction.atomic():
            ids = list(queryset.order_by().values_list("pk", flat=True)[:chunk])
            if ids:
                model.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        if len(ids) < chunk:
            return deleted, True
        if time.monotonic() >= stop:
            return deleted, False
        time.sleep(max(pause, 2 * (time.monotonic() - started)) if pause else 0)


def prune(
    days: int | None = None,
    now: dt.datetime | None = None,
    chunk: int = CHUNK,
    budget: float = BUDGET_SECONDS,
) -> int:
    """Delete events recorded more than ``days`` ago, in chunks; returns the count.

    Deliveries, attempts and trigger rows of a pruned event go with it (cascade).
    """
    days = retention_days() if days is None else days
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _ = delete_in_batches(Event.objects.filter(recorded_at__lt=cutoff), chunk, budget)
    return deleted
