"""A clean queue (issue 18): no stored results, coalesced wake-ups, the oldest task's age.

The result-store tests run real Huey storages (a SQLite file, Redis, PostgreSQL)
built by :func:`huey_from_url` with the project's own ``HUEY`` settings, and execute
the tasks as a consumer thread does (``dequeue`` then ``execute``).
"""

from __future__ import annotations

import contextlib
import time
import uuid

import psycopg
import pytest
import redis
import time_machine
from django.conf import settings
from huey.contrib.djhuey import HUEY

from sofno.core.queue import (
    WAKE_STALE_SECONDS,
    enqueued_at,
    huey_from_url,
    oldest_task_age,
    wake_once,
)
from sofno.events.emit import emit
from sofno.events.models import EventCounter
from sofno.notify.models import Delivery, DispatchCursor, WebhookEndpoint
from sofno.notify.routing.dispatcher import dispatch_task

# These tests share numbered databases of the one local Redis: one xdist worker runs them all.
pytestmark = pytest.mark.xdist_group("redis")

REDIS_URL = "redis://127.0.0.1:6379/12"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_QUEUE_DB = "sofno_infra"  # this branch's own database on the shared server
BURST = 300


def _postgres_queue_url() -> str:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        found = conn.execute("select 1 from pg_database where datname = %s", [PG_QUEUE_DB])
        if not found.fetchone():
            conn.execute(f'create database "{PG_QUEUE_DB}"')
    return f"postgres://postgres@127.0.0.1:5432/{PG_QUEUE_DB}"


def _queue_urls(tmp_path) -> dict[str, str]:
    return {
        "sqlite": f"sqlite:///{tmp_path}/queue.sqlite3",
        "redis": REDIS_URL,
        "postgres": _postgres_queue_url(),
    }


def drain(huey, skip: frozenset[str] = frozenset()) -> list[str]:
    """Run every waiting task as a consumer thread would; returns their names."""
    ran = []
    while (data := huey.storage.dequeue()) is not None:
        task = huey.deserialize_task(data)
        if task.name in skip:
            continue
        # A failing task is part of the burst; huey has logged it.
        with contextlib.suppress(Exception):
            huey.execute(task)
        ran.append(task.name)
    return ran


def _burst(huey) -> int:
    @huey.task()
    def add(a: int, b: int) -> int:
        return a + b

    @huey.task()
    def broken() -> None:
        raise ValueError("a failing task leaves no error result either")

    for n in range(BURST):
        add(n, n)
    for _ in range(20):
        wake_once(add, 1, 1)
    broken()
    return len(drain(huey))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "redis", "postgres"])
def test_it_leaves_the_result_store_unchanged_after_a_burst_of_tasks(kind, tmp_path):
    url = _queue_urls(tmp_path)[kind]
    options = {"results": settings.HUEY["results"]}
    huey = huey_from_url(f"clean-{uuid.uuid4().hex[:8]}", url, **options)
    before = huey.storage.result_store_size()
    ran = _burst(huey)
    after = huey.storage.result_store_size()
    print(f"{kind}: {ran} tasks, result store {before} -> {after} rows")
    assert ran == BURST + 2  # every add, one coalesced wake-up, the broken task
    assert huey.pending_count() == 0
    assert after == before
    # The same burst with results stored (huey's default) grows the store per task:
    # what this test would catch coming back.
    keeping = huey_from_url(f"keep-{uuid.uuid4().hex[:8]}", url, results=True)
    _burst(keeping)
    kept = keeping.storage.result_store_size()
    print(f"{kind}: the same burst storing results: {before} -> {kept} rows")
    assert kept >= after + BURST
    keeping.storage.flush_results()
    if kind == "redis":
        redis.Redis.from_url(REDIS_URL).flushdb()


def test_the_project_queue_stores_no_results():
    assert settings.HUEY["results"] is False
    assert HUEY.results is False


@pytest.fixture
def queued(transactional_db):
    """The project's queue holding tasks instead of running them inline.

    Tasks then run as in a worker, closing the database connection around each, so
    the test's rows must be committed (a transactional test), not held in a
    transaction that the first task would cut.
    """
    HUEY.immediate = False  # huey's own switch; the storage becomes a fresh queue
    yield HUEY
    HUEY.storage.flush_all()
    HUEY.immediate = True


def _pending(huey, name: str, *args) -> int:
    return sum(1 for t in huey.pending() if t.name == name and tuple(t.args) == args)


def test_it_keeps_one_dispatch_pending_per_organization_and_loses_no_event(queued, cast):
    WebhookEndpoint.objects.create(
        organization=cast.org,
        url="https://hooks.example.com/sofno",
        event_types=[],
        secrets=[{"secret": "whsec_" + "A" * 32, "expires_at": None}],
    )
    for n in range(25):  # 25 commits, each telling dispatch to wake up
        emit(cast.org, "test.burst", f"thing:{n}", {"n": n})
        assert _pending(queued, "dispatch_task", cast.org.pk) == 1
    emit(cast.other_org, "test.burst", "thing:other")
    assert _pending(queued, "dispatch_task", cast.other_org.pk) == 1

    ran = drain(queued, skip=frozenset({"deliver_task"}))
    assert ran.count("dispatch_task") == 2
    # Nothing lost: the one wake-up read every event of its organization.
    assert Delivery.objects.filter(organization=cast.org).count() == 25
    last = EventCounter.objects.get(organization=cast.org).last_sequence
    assert DispatchCursor.objects.get(organization=cast.org).last_sequence == last

    # Once the pending wake-up has run, the next commit gets a new one.
    emit(cast.org, "test.burst", "thing:late")
    assert _pending(queued, "dispatch_task", cast.org.pk) == 1
    drain(queued, skip=frozenset({"deliver_task"}))
    assert Delivery.objects.filter(organization=cast.org).count() == 26


def test_it_clears_the_flag_when_the_wake_up_starts_not_when_it_ends(queued, cast):
    seen_pending_during_run = []

    def during(signal, task, *rest):
        if not seen_pending_during_run:  # once: the second wake-up must not chain
            seen_pending_during_run.append(wake_once(dispatch_task, cast.org.pk))

    assert wake_once(dispatch_task, cast.org.pk)
    assert not wake_once(dispatch_task, cast.org.pk)
    queued.signal("executing")(during)
    try:
        drain(queued, skip=frozenset({"deliver_task"}))
    finally:
        queued.disconnect_signal(during, "executing")
    # While the first ran, a commit could enqueue a second: it would not be missed.
    assert seen_pending_during_run == [True]


def test_it_replaces_a_flag_whose_message_was_lost(queued, cast):
    with time_machine.travel(time.time(), tick=False) as traveller:
        assert wake_once(dispatch_task, cast.org.pk)
        queued.storage.flush_queue()  # the message is gone, the flag is not
        assert not wake_once(dispatch_task, cast.org.pk)
        traveller.shift(WAKE_STALE_SECONDS + 1)
        assert wake_once(dispatch_task, cast.org.pk)
    assert _pending(queued, "dispatch_task", cast.org.pk) == 1


def test_it_reports_how_long_the_next_task_has_waited(queued, cast):
    assert oldest_task_age(queued) == 0.0
    with time_machine.travel(time.time(), tick=False) as traveller:
        wake_once(dispatch_task, cast.org.pk)
        (task,) = queued.pending()
        assert enqueued_at(task.id) == pytest.approx(time.time(), abs=0.01)
        traveller.shift(42)
        assert oldest_task_age(queued) == pytest.approx(42, abs=0.01)


def test_it_exposes_the_queue_depth_and_the_oldest_task_age_as_metrics(queued, cast):
    from sofno.ops.metrics import queue_metrics

    wake_once(dispatch_task, cast.org.pk)
    samples = {m.name: m.samples[0][2] for m in queue_metrics()}
    assert samples["sofno_queue_pending_tasks"] == 1
    assert 0 <= samples["sofno_queue_oldest_task_age_seconds"] < 5
