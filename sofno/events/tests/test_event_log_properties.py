"""Properties of the event log, the spine everything else reads.

- Each organization's sequence has no gap and no repeat, whatever the batch sizes and
  however many emitters write at once.
- Posting with an idempotency key stores one event per key, however often it is
  retried (also when the retries race).
- A reader that follows the cursor (as pull consumers and dispatch do) never skips
  and never repeats an event, even while emitters are writing: sequence order must
  be commit order for that to hold.

The concurrent cases need a database that really runs transactions side by side, so
they run on PostgreSQL; the rest run on both databases.
"""

from __future__ import annotations

import itertools
import threading
import uuid

import pytest
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sofno.core.access import Actor
from sofno.core.models import Organization, Role
from sofno.events.actions import post_event, read_consumer
from sofno.events.emit import NewEvent, emit_many
from sofno.events.models import Consumer, Event

HYPOTHESIS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL"
)
_slugs = itertools.count()


def _org() -> Organization:
    """A fresh organization: every example gets its own sequence from 1."""
    return Organization.objects.create(slug=f"prop-{next(_slugs)}-{uuid.uuid4().hex[:6]}")


def _sequences(org: Organization) -> list[int]:
    return list(
        Event.objects.filter(organization=org)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )


def _emit(org: Organization, size: int, tag: str = "") -> None:
    emit_many(org, [NewEvent("custom.test", f"thing:{tag}{i}") for i in range(size)])


def _in_threads(work: list) -> list[BaseException]:
    """Run each callable in its own thread (own database connection); their errors."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(work))

    def run(job) -> None:
        try:
            start.wait()
            job()
        except BaseException as exc:  # reported to the test, not lost in a thread
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.django_db
@HYPOTHESIS
@given(batches=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=12))
def test_it_numbers_each_organization_without_gaps_or_repeats(batches):
    org, other = _org(), _org()
    for size in batches:
        _emit(org, size)
        _emit(other, 1)
    assert _sequences(org) == list(range(1, sum(batches) + 1))
    assert _sequences(other) == list(range(1, len(batches) + 1))


@pytest.mark.django_db
@HYPOTHESIS
@given(keys=st.lists(st.one_of(st.none(), st.sampled_from("abcde")), min_size=1, max_size=25))
def test_it_stores_one_event_per_idempotency_key(keys):
    org = _org()
    actor = Actor(organization=org, role=Role.ADMIN)
    first: dict[str, uuid.UUID] = {}
    for key in keys:
        event, created = post_event(
            acting_user=actor, type="customer.created", subject="s", idempotency_key=key
        )
        if key is None:
            assert created
            continue
        assert created == (key not in first)
        assert first.setdefault(key, event.public_id) == event.public_id
    distinct = len({k for k in keys if k is not None})
    assert Event.objects.filter(organization=org).count() == distinct + keys.count(None)


@needs_postgres
@pytest.mark.django_db(transaction=True)
@HYPOTHESIS
@given(
    plans=st.lists(
        st.lists(st.integers(min_value=1, max_value=25), min_size=1, max_size=8),
        min_size=2,
        max_size=4,
    )
)
def test_concurrent_emitters_leave_no_gap_or_repeat(plans):
    org = _org()
    jobs = [
        lambda plan=plan, n=n: [_emit(org, s, f"{n}-") for s in plan]
        for n, plan in enumerate(plans)
    ]
    assert _in_threads(jobs) == []
    total = sum(sum(plan) for plan in plans)
    assert _sequences(org) == list(range(1, total + 1))


@needs_postgres
@pytest.mark.django_db(transaction=True)
@HYPOTHESIS
@given(retries=st.integers(min_value=2, max_value=6))
def test_racing_retries_of_one_post_store_one_event(retries):
    org = _org()
    actor = Actor(organization=org, role=Role.ADMIN)
    seen: list[uuid.UUID] = []

    def post() -> None:
        event, _ = post_event(
            acting_user=actor, type="customer.created", subject="s", idempotency_key="once"
        )
        seen.append(event.public_id)

    assert _in_threads([post] * retries) == []
    assert len(set(seen)) == 1
    assert Event.objects.filter(organization=org).count() == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
@HYPOTHESIS
@given(
    plans=st.lists(
        st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=6),
        min_size=1,
        max_size=3,
    ),
    limit=st.integers(min_value=1, max_value=30),
)
def test_a_cursor_reader_never_skips_or_repeats_while_emitters_write(plans, limit):
    org = _org()
    consumer = Consumer.objects.create(organization=org, name="reader", event_types=[])
    total = sum(sum(plan) for plan in plans)
    done = threading.Event()
    read: list[int] = []

    def emitter(plan: list[int], n: int):
        return lambda: [_emit(org, size, f"{n}-") for size in plan]

    def reader() -> None:
        cursor = 0
        while True:
            events, cursor = read_consumer(consumer, cursor, limit, wait=0)
            read.extend(e.sequence for e in events)
            if done.is_set() and not events and len(read) >= total:
                return
            if done.is_set() and not events:
                # Emitters are finished: one more empty read means we have it all.
                events, cursor = read_consumer(consumer, cursor, limit, wait=0)
                read.extend(e.sequence for e in events)
                if not events:
                    return

    emitters = [emitter(plan, n) for n, plan in enumerate(plans)]

    def emit_all() -> None:
        try:
            assert _in_threads(emitters) == []
        finally:
            done.set()

    assert _in_threads([emit_all, reader]) == []
    assert read == list(range(1, total + 1))
