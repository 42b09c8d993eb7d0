"""The start-up grace: after the server itself was down, nobody is alerted for
deadlines that passed while no sweeper ran until those computers had a full interval
to check in again (their silence was ours)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from sofno.monitoring import conf
from sofno.monitoring.models import Device, DeviceStatus, SweeperState


def startup_grace(now: dt.datetime | None = None) -> int:
    """Record that a sweeper runs now; when the previous run is older than
    ``SOFNO_SWEEPER_DOWNTIME``, give every online device already past its deadline a
    fresh deadline (a full interval plus grace from now). Returns how many.

    The gap is claimed by compare-and-set on the recorded time, so of several workers
    starting together exactly one grants the grace.
    """
    now = now or timezone.now()
    state = SweeperState.objects.order_by("pk").first()
    if state is None:
        SweeperState.objects.create(last_run_at=now)
        return 0
    claimed = SweeperState.objects.filter(pk=state.pk, last_run_at=state.last_run_at).update(
        last_run_at=now
    )
    gap = (now - state.last_run_at).total_seconds()
    if not claimed or gap < conf.sweeper_downtime():
        return 0
    by_wait: dict[int, list[int]] = defaultdict(list)
    for pk, interval, grace in Device.objects.filter(
        status=DeviceStatus.ONLINE, alert_after__lte=now
    ).values_list("pk", "effective_interval", "effective_grace"):
        by_wait[interval + grace].append(pk)
    granted = 0
    for seconds, ids in by_wait.items():
        granted += Device.objects.filter(
            pk__in=ids, status=DeviceStatus.ONLINE, alert_after__lte=now
        ).update(alert_after=now + dt.timedelta(seconds=seconds))
    return granted
