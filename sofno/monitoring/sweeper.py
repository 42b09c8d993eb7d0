"""The worker's offline sweeper: one tick about every second."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.utils import timezone

from sofno.monitoring import actions, commands, conf
from sofno.monitoring.models import CheckIn

log = logging.getLogger(__name__)
_last_prune = 0.0


def tick() -> int:
    """Flip every overdue device (in batches), send held-back alerts that are due,
    expire unanswered commands, and prune old check-in history now and then."""
    global _last_prune
    flipped = 0
    # Keep going while batches come back full so a mass outage is handled in one tick.
    while True:
        done = actions.sweep_offline()
        flipped += done
        if done < actions.SWEEP_BATCH:
            break
    actions.send_due_alerts()
    commands.expire_stale()
    if time.monotonic() - _last_prune > 600:
        _last_prune = time.monotonic()
        cutoff = timezone.now() - dt.timedelta(days=conf.retention_days())
        CheckIn.objects.filter(at__lt=cutoff).delete()
    return flipped
