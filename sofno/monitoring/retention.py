"""Monitoring's prune: history rings beyond their size and old incident timelines.

- Check-in history needs no age prune: each device keeps a ring of its latest
  ``SOFNO_CHECKIN_HISTORY`` check-ins (``monitoring.checkin_rules``). When the setting
  is lowered, the slots past the new size are deleted here; the slots left fill with
  the newest check-ins within the new size's number of check-ins.
- ``SOFNO_INCIDENT_TIMELINE_RETENTION_DAYS`` (default 365, ``0`` keeps all): the
  timeline rows of incidents resolved longer ago than that are deleted; the incident
  itself, and the device's offline periods (availability), stay.

Both go through :func:`sofno.events.retention.delete_in_batches`: short chunks within
a time budget, the same code on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from sofno.core.env import env_int
from sofno.events.retention import BUDGET_SECONDS, CHUNK, delete_in_batches
from sofno.monitoring import checkin_rules
from sofno.monitoring.models import CheckIn, IncidentEntry, IncidentStatus

DEFAULT_TIMELINE_DAYS = 365


def timeline_retention_days() -> int:
    """``SOFNO_INCIDENT_TIMELINE_RETENTION_DAYS`` (default 365); zero keeps all."""
    return env_int("SOFNO_INCIDENT_TIMELINE_RETENTION_DAYS", DEFAULT_TIMELINE_DAYS)


def prune(
    now: dt.datetime | None = None, chunk: int = CHUNK, budget: float = BUDGET_SECONDS
) -> int:
    """Delete history slots past the ring's size and old resolved timelines; returns
    how many rows went."""
    deleted, finished = delete_in_batches(
        CheckIn.objects.filter(slot__gte=checkin_rules.history_size()), chunk, budget / 2
    )
    days = timeline_retention_days()
    if days > 0 and finished:
        cutoff = (now or timezone.now()) - dt.timedelta(days=days)
        old = IncidentEntry.objects.filter(
            incident__status=IncidentStatus.RESOLVED, incident__resolved_at__lt=cutoff
        )
        deleted += delete_in_batches(old, chunk, budget / 2)[0]
    return deleted
