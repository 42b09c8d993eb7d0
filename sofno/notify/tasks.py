"""Queue tasks and loops that wake the delivery machinery up.

The queue only wakes work up: if a message is lost, the ``notify.reconcile`` loop
finds the work in the database within a second or two.
"""

from __future__ import annotations

import threading
import time

from huey.contrib.djhuey import db_task

from sofno.core.queue import wake_once
from sofno.notify import delivery

# The reconciler enqueues at most one wake-up per interval per process.
_WAKE_INTERVAL = 2.0
_last_wake = 0.0
_wake_lock = threading.Lock()


@db_task()
def dispatch_task(organization_id: int) -> int:
    """Fan new events out to deliveries, then send what is due."""
    read = delivery.dispatch_organization(organization_id)
    while read == delivery.DISPATCH_BATCH:
        read = delivery.dispatch_organization(organization_id)
    deliver_task()
    return read


@db_task()
def deliver_task() -> int:
    """Send due deliveries until none is left (bounded, then hand over)."""
    # Bounded so one task never holds a queue thread for long; whatever is left is
    # found by the reconciler's next wake-up.
    return delivery.deliver_all(max_seconds=20.0)


def on_events_committed(events: list) -> None:
    """``events.on_committed`` listener: dispatch each organization that emitted."""
    for organization_id in sorted({e.organization_id for e in events}):
        wake_once(dispatch_task, organization_id)  # one pending per organization


def _wake() -> None:
    global _last_wake
    with _wake_lock:
        now = time.monotonic()
        if now - _last_wake < _WAKE_INTERVAL:
            return
        _last_wake = now
    deliver_task()


def reconcile() -> None:
    """The ``notify.reconcile`` loop: the database, not the queue, says what is due.

    - in-flight deliveries whose lease ran out go back in line;
    - organizations with undispatched events are dispatched;
    - when deliveries are due, a delivery task is enqueued.
    """
    delivery.release_expired()
    delivery.dispatch_pending()
    if delivery.has_due_work():
        _wake()
