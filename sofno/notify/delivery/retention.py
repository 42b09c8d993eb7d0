"""How long finished deliveries and their attempts are kept, and the prune.

Events have their own retention (``SOFNO_EVENT_RETENTION_DAYS``) and take their
deliveries with them; this shorter one lets a busy organization keep its event log
for months while dropping the bulk of delivery history sooner. Pruned in short
chunks within a time budget (:func:`sofno.events.retention.delete_in_batches`).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from sofno.core.env import env_int
from sofno.events.retention import BUDGET_SECONDS, CHUNK, delete_in_batches
from sofno.notify.models import OPEN_STATUSES, Delivery

DEFAULT_RETENTION_DAYS = 30


def retention_days() -> int:
    """``SOFNO_DELIVERY_RETENTION_DAYS`` (default 30); zero keeps deliveries forever."""
    return env_int("SOFNO_DELIVERY_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)


def prune(
    days: int | None = None,
    now: dt.datetime | None = None,
    chunk: int = CHUNK,
    budget: float = BUDGET_SECONDS,
) -> int:
    """Delete deliveries finished more than ``days`` ago (attempts go with them).

    Open deliveries (pending, sending) are never pruned, however old.
    """
    days = retention_days() if days is None else days
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    # A delivery cancelled before any try may have no finished_at: its age counts then.
    old = Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    finished = Delivery.objects.exclude(status__in=OPEN_STATUSES).filter(old)
    deleted, _ = delete_in_batches(finished, chunk, budget)
    return deleted
