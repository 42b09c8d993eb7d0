"""Registries that let lower apps plug work into core's processes.

``core`` may not import the apps below it, so they register here from their
``AppConfig.ready``:
- background loops the worker runs beside the task consumer (the offline sweeper);
- demo seeders that add each app's sample data to the demo organization;
- demo runners that keep the demo alive while it runs (simulated agents).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import close_old_connections

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loop:
    """A function the worker calls every ``interval`` seconds, in its own thread."""

    name: str
    tick: Callable[[], object]
    interval: float


LOOPS: dict[str, Loop] = {}
DEMO_SEEDERS: list[Callable[..., None]] = []
DEMO_RUNNERS: list[Callable[..., None]] = []


def register_loop(name: str, tick: Callable[[], object], interval: float = 1.0) -> None:
    """Ask every worker to call ``tick`` about every ``interval`` seconds."""
    LOOPS[name] = Loop(name, tick, interval)


def register_demo_seeder(seed: Callable[..., None]) -> None:
    """Add ``seed(organization, owner)`` to the demo's one-time sample data."""
    if seed not in DEMO_SEEDERS:
        DEMO_SEEDERS.append(seed)


def register_demo_runner(start: Callable[..., None]) -> None:
    """Add ``start(organization, base_url, stop, **options)`` to what ``sofno demo``
    starts once its server listens; it must return at once (run in a daemon thread)
    and stop when the ``stop`` event is set."""
    if start not in DEMO_RUNNERS:
        DEMO_RUNNERS.append(start)


def run_loops(stop: threading.Event, only: Iterable[str] | None = None) -> list[threading.Thread]:
    """Start one daemon thread per registered loop (or per loop named in ``only``);
    they end when ``stop`` is set."""
    wanted = None if only is None else set(only)
    threads = []
    for loop in LOOPS.values():
        if wanted is not None and loop.name not in wanted:
            continue
        thread = threading.Thread(target=_run, args=(loop, stop), name=loop.name, daemon=True)
        thread.start()
        threads.append(thread)
    return threads


# While a loop keeps failing, its traceback is logged once and then a one-line
# reminder at most this often, so a broken loop ticking every second does not bury
# the log.
REPEAT_FAILURE_LOG_SECONDS = 60.0


def _run(loop: Loop, stop: threading.Event) -> None:
    failing_since: float | None = None
    last_logged = 0.0
    while not stop.is_set():
        started = time.monotonic()
        try:
            close_old_connections()
            loop.tick()
        except Exception as exc:  # a failing tick must not kill the loop; it retries
            if failing_since is None:
                failing_since = last_logged = started
                log.exception("loop %s failed", loop.name)
            elif started - last_logged >= REPEAT_FAILURE_LOG_SECONDS:
                last_logged = started
                log.error(
                    "loop %s still failing for %.0f s: %s", loop.name, started - failing_since, exc
                )
        else:
            if failing_since is not None:
                log.warning("loop %s recovered", loop.name)
            failing_since = None
        # Hand the connection back (to the pool) while sleeping: a worker's loops
        # each pinning one would leave its task threads too few.
        close_old_connections()
        stop.wait(max(0.0, loop.interval - (time.monotonic() - started)))
