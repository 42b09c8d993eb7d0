"""Background loops the worker runs beside the task consumer."""

from __future__ import annotations

import logging
import threading

import pytest

from sofno.conftest import wait_for
from sofno.core import hooks


@pytest.fixture
def loop_named():
    """Register loops through the public hook and take them away afterwards."""
    names: list[str] = []

    def register(name: str, tick, interval: float) -> None:
        names.append(name)
        hooks.register_loop(name, tick, interval)

    yield register
    for name in names:
        hooks.LOOPS.pop(name, None)


def test_it_runs_every_loop_until_stopped_and_survives_failing_ticks(loop_named, caplog):
    ticks: list[str] = []

    def steady() -> None:
        ticks.append("steady")

    def broken() -> None:
        ticks.append("broken")
        raise RuntimeError("boom")

    loop_named("test-steady", steady, 0.01)
    loop_named("test-broken", broken, 0.01)
    stop = threading.Event()
    with caplog.at_level(logging.ERROR, logger="sofno.core.hooks"):
        threads = hooks.run_loops(stop, only=["test-steady", "test-broken"])
        assert sorted(t.name for t in threads) == ["test-broken", "test-steady"]
        wait_for(
            lambda: ticks.count("broken") >= 3 and ticks.count("steady") >= 3,
            timeout=10,
            what="both loops to tick three times, the broken one despite failing",
        )
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
    assert not any(thread.is_alive() for thread in threads)
    logged = [r for r in caplog.records if "test-broken" in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info  # one traceback, not one per tick
