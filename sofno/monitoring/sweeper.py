"""The worker's offline sweeper: one tick about every second."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.utils import timezone

from sofno.monitoring import actions, commands
from sofno.monitoring.actions import outage
from sofno.monitoring.models import Device, DeviceStatus

log = logging.getLogger(__name__)

# How long one loop call may keep watching for deadlines (the loop's own interval).
WATCH_SECONDS = 1.0
# The shortest pause between two sweeps while watching.
MIN_GAP = 0.05


def tick() -> int:
    """Grant the start-up grace after downtime, bring back devices whose stored
    check-in a server process left behind, flip every overdue device (in batches),
    emit the alerts whose group wait ended, re-evaluate a suspected outage of our own
    and expire unanswered commands (pruning is a loop of its own:
    monitoring.retention)."""
    granted = actions.startup_grace()
    if granted:
        log.warning("the sweeper was not running: %d overdue devices get a fresh interval", granted)
    if left_behind := actions.bring_back_stored():
        log.warning("brought back %d devices whose check-in was stored without them", left_behind)
    flipped = 0
    # Keep going while batches come back full so a mass outage is handled in one tick.
    while True:
        done = actions.sweep_offline()
        flipped += done
        if done < actions.SWEEP_BATCH:
            break
    actions.send_due_alerts()
    outage.review()
    commands.expire_stale()
    return flipped


def next_deadline() -> dt.datetime | None:
    """The earliest deadline of an online device (the sweeper's partial index)."""
    return (
        Device.objects.filter(status=DeviceStatus.ONLINE, alert_after__isnull=False)
        .order_by("alert_after")
        .values_list("alert_after", flat=True)
        .first()
    )


def run() -> int:
    """The worker loop's call: a :func:`tick`, then flips for the deadlines that pass
    during the next second as they pass.

    Ticking once a second alone adds up to a second (half on average) between a
    deadline and its flip; sleeping until a deadline known to be near removes it.
    """
    flipped = tick()
    stop = time.monotonic() + WATCH_SECONDS
    while (left := stop - time.monotonic()) > 0:
        upcoming = next_deadline()
        if upcoming is None:
            break
        wait = (upcoming - timezone.now()).total_seconds()
        if wait > left:
            break
        # A steady trickle of deadlines is flipped in small groups, not one
        # transaction per device.
        time.sleep(max(wait, MIN_GAP))
        done = 0
        while (batch := actions.sweep_offline()) >= actions.SWEEP_BATCH:
            done += batch
        done += batch
        if not done and wait <= 0:
            break  # overdue but locked: another worker is flipping it
        flipped += done
    return flipped
