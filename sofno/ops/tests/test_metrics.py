"""Prometheus metrics at /metrics: protected by a token, parseable, true to the rows.

Every figure is asserted exactly against rows the test wrote; the only exception is
the scrape's own duration, bounded by the request's wall time (no test clock drives
``time.monotonic``).
"""

import datetime as dt
import re
import time

import pytest
import time_machine
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from sofno.core.queue import wake_once
from sofno.notify.routing.dispatcher import dispatch_task
from sofno.ops.metrics import SofnoCollector

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
TOKEN = "metrics-token-0123456789"

# What /metrics served before prometheus_client (main at dfd67f2), family by family:
# type, label names and help. A rename, a new label or a changed type breaks the
# dashboards and alerts built on them, so it must break this test first.
SERVED = {
    "sofno_checkins_recent": (
        "gauge",
        (),
        "Check-ins acknowledged in the last 300 seconds.",
    ),
    "sofno_devices": ("gauge", ("status",), "Devices by status."),
    "sofno_sweeper_lag_seconds": (
        "gauge",
        (),
        "How long the most overdue online device has waited to be marked offline.",
    ),
    "sofno_events_total": ("counter", (), "Events recorded since installation."),
    "sofno_events_recent": ("gauge", (), "Events recorded in the last 300 seconds."),
    "sofno_deliveries": (
        "gauge",
        ("channel", "status"),
        "Stored deliveries by channel and status.",
    ),
    "sofno_deliveries_due": ("gauge", (), "Pending deliveries whose time has come."),
    "sofno_delivery_oldest_due_age_seconds": (
        "gauge",
        (),
        "How long the oldest pending delivery has been due (0 when none is due).",
    ),
    "sofno_delivery_attempts_sampled": (
        "gauge",
        ("outcome",),
        "The last 1000 delivery attempts by outcome.",
    ),
    "sofno_delivery_attempt_duration_seconds": (
        "histogram",
        (),  # and "le" on its buckets
        "Duration of the last 1000 delivery attempts (a sliding sample).",
    ),
    "sofno_queue_pending_tasks": ("gauge", (), "Tasks waiting in the task queue."),
    "sofno_queue_oldest_task_age_seconds": (
        "gauge",
        (),
        "How long the next task in the queue has waited (0 when the queue is empty).",
    ),
    "sofno_metrics_section_errors": (
        "gauge",
        ("section",),
        "1 when a section of the metrics failed.",
    ),
    "sofno_metrics_scrape_seconds": ("gauge", (), "Time spent computing these metrics."),
}
SECTIONS = ("monitoring", "event", "delivery", "queue")
BUCKETS = ("0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "+Inf")

_HELP = re.compile(r"^# HELP (\S+) (.*)$", re.MULTILINE)
_TYPE = re.compile(r"^# TYPE (\S+) (\S+)$", re.MULTILINE)


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """``{(sample name, labels): value}`` as Prometheus's own parser reads ``text``;
    a sample served twice fails."""
    samples: dict[tuple[str, frozenset], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in samples, f"duplicate sample {key}"
            samples[key] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def by_label(samples, name: str, label: str) -> dict[str, float]:
    """Every sample of ``name`` keyed by its one ``label``."""
    return {dict(key[1])[label]: v for key, v in samples.items() if key[0] == name}


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def _scrape(client, token=TOKEN):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"})


def _figures(client) -> dict[tuple[str, frozenset], float]:
    response = _scrape(client)
    assert response.status_code == 200
    return parse(response.content.decode())


def test_it_hides_metrics_when_no_token_is_set(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert _scrape(client, "anything").status_code == 404


def test_it_refuses_a_missing_or_wrong_token(client, token):
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert _scrape(client, "wrong").status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401


def test_it_refuses_other_methods(client, token):
    response = client.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 405


def test_it_serves_the_same_metric_names_types_labels_and_help_as_before(client, db, token):
    response = _scrape(client)
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = response.content.decode()
    types = _TYPE.findall(text)
    helps = _HELP.findall(text)
    assert [name for name, _ in types] == list(SERVED)  # each once, in the same order
    assert dict(types) == {name: kind for name, (kind, _, _) in SERVED.items()}
    assert dict(helps) == {name: help_ for name, (_, _, help_) in SERVED.items()}
    # Prometheus's parser agrees, and every sample carries exactly its family's labels.
    for family in text_string_to_metric_families(text):
        served = family.name + ("_total" if family.type == "counter" else "")
        kind, labels, _ = SERVED[served]
        assert family.type == kind
        assert family.samples, served
        for sample in family.samples:
            bucket = ("le",) if sample.name.endswith("_bucket") else ()
            assert tuple(sample.labels) == labels + bucket, sample


@time_machine.travel(NOW, tick=False)
def test_it_reports_figures_that_match_the_rows(client, cast, token):
    from sofno.core.access import Actor
    from sofno.directory.models import Customer
    from sofno.events.emit import emit
    from sofno.events.models import Event
    from sofno.monitoring import actions
    from sofno.monitoring.models import CheckIn, Device, DeviceStatus
    from sofno.notify.models import Attempt, Channel, Delivery, DeliveryStatus

    actor = Actor(organization=cast.org, role="owner", user=cast.owner)
    customer = Customer.objects.create(organization=cast.org, name="Pizzeria Roma")
    devices = [
        actions.create_device(acting_user=actor, customer=customer, fields={"name": f"Till {n}"})[0]
        for n in range(4)
    ]
    now = timezone.now()
    # Two online (one 42 s overdue, not yet flipped), one offline, one still new.
    Device.objects.filter(pk=devices[0].pk).update(
        status=DeviceStatus.ONLINE, alert_after=now - dt.timedelta(seconds=42)
    )
    Device.objects.filter(pk=devices[1].pk).update(
        status=DeviceStatus.ONLINE, alert_after=now + dt.timedelta(seconds=60)
    )
    Device.objects.filter(pk=devices[2].pk).update(status=DeviceStatus.OFFLINE)
    for slot, seconds in enumerate((10, 100, 200, 3600)):
        CheckIn.objects.create(device=devices[0], slot=slot, at=now - dt.timedelta(seconds=seconds))

    # The events so far (the devices' own) were all recorded just now.
    recorded = Event.objects.count()
    before = _figures(client)
    assert value(before, "sofno_events_total") == recorded
    assert value(before, "sofno_events_recent") == recorded

    with time_machine.travel(NOW - dt.timedelta(seconds=301), tick=False):
        emit(cast.org, "customer.created", "customer:old")  # counted ever, not lately
    events = [emit(cast.org, "customer.created", f"customer:{n}") for n in range(3)]
    emit(cast.other_org, "customer.created", "customer:x")

    def delivery(status, due_seconds_ago=0):
        return Delivery.objects.create(
            organization=cast.org,
            event=events[0],
            sequence=events[0].sequence,
            status=status,
            next_attempt_at=now - dt.timedelta(seconds=due_seconds_ago),
        )

    delivery(DeliveryStatus.PENDING, due_seconds_ago=90)
    delivery(DeliveryStatus.PENDING, due_seconds_ago=5)
    delivery(DeliveryStatus.PENDING, due_seconds_ago=-300)  # not yet due
    done = delivery(DeliveryStatus.SUCCEEDED)
    delivery(DeliveryStatus.FAILED)
    for number, (ms, ok) in enumerate([(40, True), (300, True), (7000, False)], start=1):
        Attempt.objects.create(delivery=done, number=number, started_at=now, duration_ms=ms, ok=ok)

    started = time.monotonic()
    samples = _figures(client)
    took = time.monotonic() - started

    assert value(samples, "sofno_checkins_recent") == 3
    assert by_label(samples, "sofno_devices", "status") == {
        "new": 1,
        "online": 2,
        "offline": 1,
        "paused": 0,
    }
    assert value(samples, "sofno_sweeper_lag_seconds") == 42
    assert value(samples, "sofno_events_total") == recorded + 5
    assert value(samples, "sofno_events_recent") == recorded + 4
    deliveries = {
        (dict(labels)["channel"], dict(labels)["status"]): v
        for (name, labels), v in samples.items()
        if name == "sofno_deliveries"
    }
    expected = {(c, s): 0 for c in Channel.values for s in DeliveryStatus.values}
    expected |= {
        ("webhook", "pending"): 3,
        ("webhook", "succeeded"): 1,
        ("webhook", "failed"): 1,
    }
    assert deliveries == expected
    assert value(samples, "sofno_deliveries_due") == 2
    assert value(samples, "sofno_delivery_oldest_due_age_seconds") == 90
    assert by_label(samples, "sofno_delivery_attempts_sampled", "outcome") == {
        "ok": 2,
        "failed": 1,
    }
    # Durations 0.04 s, 0.3 s and 7 s in cumulative buckets.
    bucket = "sofno_delivery_attempt_duration_seconds_bucket"
    counts = (1, 1, 1, 2, 2, 2, 2, 3, 3, 3)
    assert by_label(samples, bucket, "le") == dict(zip(BUCKETS, counts, strict=True))
    assert value(samples, "sofno_delivery_attempt_duration_seconds_count") == 3
    assert value(samples, "sofno_delivery_attempt_duration_seconds_sum") == 7.34
    # The test queue runs tasks inline: nothing ever waits in it.
    assert value(samples, "sofno_queue_pending_tasks") == 0
    assert value(samples, "sofno_queue_oldest_task_age_seconds") == 0
    assert by_label(samples, "sofno_metrics_section_errors", "section") == dict.fromkeys(
        SECTIONS, 0
    )
    assert 0 <= value(samples, "sofno_metrics_scrape_seconds") <= took


def test_it_reports_zero_lag_and_age_when_nothing_is_waiting(client, db, token):
    samples = _figures(client)
    assert value(samples, "sofno_sweeper_lag_seconds") == 0
    assert value(samples, "sofno_delivery_oldest_due_age_seconds") == 0
    assert value(samples, "sofno_deliveries_due") == 0
    assert value(samples, "sofno_delivery_attempt_duration_seconds_count") == 0
    assert value(samples, "sofno_delivery_attempt_duration_seconds_sum") == 0
    assert value(samples, "sofno_queue_oldest_task_age_seconds") == 0


@pytest.fixture
def queued(transactional_db):
    """The project's queue holding tasks instead of running them inline."""
    HUEY.immediate = False  # huey's own switch; the storage becomes a fresh queue
    yield HUEY
    HUEY.storage.flush_all()
    HUEY.immediate = True


def test_it_reports_the_queue_depth_and_how_long_the_next_task_has_waited(
    client, queued, cast, token
):
    with time_machine.travel(NOW, tick=False) as traveller:
        assert wake_once(dispatch_task, cast.org.pk)
        traveller.shift(30)
        assert wake_once(dispatch_task, cast.other_org.pk)
        traveller.shift(12)
        samples = _figures(client)
    assert value(samples, "sofno_queue_pending_tasks") == 2
    assert value(samples, "sofno_queue_oldest_task_age_seconds") == 42


def fine_metrics():
    return [GaugeMetricFamily("sofno_fine", "A section that works.", value=7)]


def broken_metrics():
    raise RuntimeError("the source is down")


def test_it_reports_a_failed_section_and_still_serves_the_others(caplog):
    registry = CollectorRegistry()
    registry.register(SofnoCollector(sections=(broken_metrics, fine_metrics)))
    samples = parse(generate_latest(registry).decode())
    assert value(samples, "sofno_fine") == 7
    assert by_label(samples, "sofno_metrics_section_errors", "section") == {
        "broken": 1,
        "fine": 0,
    }
    assert "metrics section broken failed" in caplog.text
