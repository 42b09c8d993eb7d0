"""The queue task that wakes the senders up.

The queue only wakes work up: if a message is lost, the ``notify.reconcile`` loop
(``notify.routing.dispatcher``) finds the work in the database within a second or two.
"""

from __future__ import annotations

import threading
import time

from huey.contrib.djhuey import db_task

from sofno.notify.delivery import machinery as delivery

# The reconciler enqueues at most one wake-up per interval per process.
_WAKE_INTERVAL = 2.0
_last_wake = 0.0
_wake_lock = threading.Lock()


@db_task()
def deliver_task() -> int:
    """Send due deliveries until none is left (bounded, then hand over)."""
    # Bounded so one task never holds a queue thread for long; whatever is left is
    # found by the reconciler's next wake-up.
    return delivery.deliver_all(max_seconds=20.0)


def wake() -> None:
    """Enqueue a delivery task, at most once per interval in this process."""
    global _last_wake
    with _wake_lock:
        now = time.monotonic()
        if now - _last_wake < _WAKE_INTERVAL:
            return
        _last_wake = now
    deliver_task()
