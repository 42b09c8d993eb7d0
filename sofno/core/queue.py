"""The task queue chosen by ``SOFNO_QUEUE_URL``, and coalesced wake-ups.

``sqlite:///path`` (embedded default), ``redis://...`` and ``postgres://...`` give
the matching Huey storage; ``memory://`` runs tasks immediately, for tests.
The queue only wakes work up: the database stays the record of truth.

Rules:
- No task result is stored (``results=False``): nothing reads them, and a result row
  per finished task grew the store by 174,176 rows in one afternoon.
- :func:`wake_once` enqueues a wake-up (a task that reads the log from a cursor)
  only if the same one is not already waiting: a pending flag in the queue's own
  store, claimed with an atomic put-if-empty, cleared when the task *starts*, so an
  event committed after that start gets a wake-up of its own and nothing is missed.
- Every task's id ends with the time it was enqueued (``<id>@<epoch seconds>``), so
  the age of the oldest waiting task (a metric) is read from the next message alone.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from huey import Huey, MemoryHuey, PostgresHuey, RedisHuey, SqliteHuey
from huey.api import Task, TaskWrapper
from huey.signals import SIGNAL_ENQUEUED, SIGNAL_EXECUTING

log = logging.getLogger(__name__)

WAKE_ID_PREFIX = "wake-"
WAKE_KEY_PREFIX = "sofno.wake:"
# A flag older than this is taken as lost (its message dropped with a dead consumer
# or a flushed queue) and replaced; at worst a backlog gets one extra wake-up a minute.
WAKE_STALE_SECONDS = 60.0


def huey_from_url(name: str, url: str, immediate: bool = False, **options: object) -> Huey:
    """Build the Huey instance for ``url`` (used as ``HUEY['huey_class']``)."""
    huey = _storage_for(name, url, immediate, **options)

    @huey.signal(SIGNAL_ENQUEUED)
    def stamp_enqueue_time(signal: str, task: Task, *rest: object) -> None:
        # Runs before the message is written; a retry is stamped again.
        task.id = f"{str(task.id).partition('@')[0]}@{time.time():.3f}"

    @huey.signal(SIGNAL_EXECUTING)
    def clear_wake_flag(signal: str, task: Task, *rest: object) -> None:
        # Before a wake-up runs, let the next commit enqueue a new one.
        if str(task.id).startswith(WAKE_ID_PREFIX):
            huey.delete(wake_key(task, task.args))

    return huey


def _storage_for(name: str, url: str, immediate: bool, **options: object) -> Huey:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryHuey(name, immediate=True, **options)
    if scheme == "sqlite":
        filename = url.removeprefix("sqlite:///")
        if not url.startswith("sqlite:///"):
            raise ImproperlyConfigured("SOFNO_QUEUE_URL sqlite form is sqlite:///path/to/file")
        return SqliteHuey(name, filename=filename, immediate=immediate, **options)
    if scheme in {"redis", "rediss"}:
        return RedisHuey(name, url=url, immediate=immediate, **options)
    if scheme in {"postgres", "postgresql"}:
        dsn = "postgresql" + url[len(scheme) :]
        return PostgresHuey(name, dsn=dsn, immediate=immediate, **options)
    raise ImproperlyConfigured(
        f"SOFNO_QUEUE_URL must start with sqlite://, redis:// or postgres://, got {url!r}"
    )


def wake_key(task: Task, args: tuple[Any, ...] | list[Any]) -> str:
    """The pending flag's key for one wake-up (task and arguments)."""
    name = f"{type(task).__module__}.{task.name}"
    return WAKE_KEY_PREFIX + name + ":" + json.dumps(list(args), separators=(",", ":"))


def wake_once(task: TaskWrapper, *args: object) -> bool:
    """Enqueue ``task(*args)`` unless the same wake-up is already waiting.

    - Returns whether a task was enqueued.
    - The task must read everything due when it runs (a cursor, not the caller's
      rows): a wake-up that was skipped relies on the pending one to see its work.
    - A flag older than ``WAKE_STALE_SECONDS`` is replaced (its message was lost).
    """
    huey = task.huey
    message = task.s(*args)
    key = wake_key(message, args)
    if not _claim(huey, key):
        return False
    message.id = f"{WAKE_ID_PREFIX}{uuid.uuid4().hex}"
    try:
        huey.enqueue(message)
    except Exception:
        huey.delete(key)  # a flag without a message would silence this key a minute
        raise
    return True


def _claim(huey: Huey, key: str) -> bool:
    now = time.time()
    if huey.put_if_empty(key, now):
        return True
    claimed_at = huey.get(key, peek=True)
    if claimed_at is not None and now - float(claimed_at) < WAKE_STALE_SECONDS:
        return False
    # Stale, or cleared in between: take it over. Two callers racing here may both
    # enqueue; one extra wake-up is harmless.
    huey.delete(key)
    return bool(huey.put_if_empty(key, now))


def enqueued_at(task_id: str) -> float | None:
    """When the task with this id was (last) enqueued, in epoch seconds."""
    _, sep, stamp = str(task_id).rpartition("@")
    try:
        return float(stamp) if sep else None
    except ValueError:
        return None


def oldest_task_age(huey: Huey) -> float:
    """Seconds the next task to run has waited in the queue (0 when it is empty)."""
    items = huey.storage.enqueued_items(limit=1)
    if not items:
        return 0.0
    # The bare message, not the task: this process need not know the task's module.
    message = huey.serializer.deserialize(items[0])
    since = enqueued_at(message.id)
    return max(0.0, time.time() - since) if since is not None else 0.0
