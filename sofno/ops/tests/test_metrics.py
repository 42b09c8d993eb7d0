"""Prometheus metrics at /metrics: protected by a token, parseable, true to the rows."""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
TOKEN = "metrics-token-0123456789"

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
_SAMPLE = re.compile(
    rf"^(?P<name>{_NAME})(?:\{{(?P<labels>{_LABEL}(?:,{_LABEL})*)\}})? "
    r"(?P<value>[+-]?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|Inf)|NaN)$"
)
_HELP = re.compile(rf"^# HELP (?P<name>{_NAME}) .+$")
_TYPE = re.compile(rf"^# TYPE (?P<name>{_NAME}) (?P<kind>counter|gauge|histogram|summary|untyped)$")


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """Strictly parse the text format: every line must be HELP, TYPE or a sample of a
    family declared just before; returns ``{(name, labels): value}``."""
    assert text.endswith("\n")
    samples: dict[tuple[str, frozenset], float] = {}
    family, kind = None, None
    for line in text.rstrip("\n").split("\n"):
        if help_match := _HELP.match(line):
            family = help_match["name"]
            continue
        if type_match := _TYPE.match(line):
            assert type_match["name"] == family, line
            kind = type_match["kind"]
            continue
        sample = _SAMPLE.match(line)
        assert sample, f"not a valid sample line: {line!r}"
        name = sample["name"]
        allowed = {family} | (
            {f"{family}_bucket", f"{family}_sum", f"{family}_count"}
            if kind == "histogram"
            else set()
        )
        assert name in allowed, f"{name} outside its family {family}"
        labels = frozenset(
            re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"', sample["labels"] or "")
        )
        key = (name, labels)
        assert key not in samples, f"duplicate sample {key}"
        samples[key] = float(sample["value"])
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def _scrape(client, token=TOKEN):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"})


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


@time_machine.travel(NOW, tick=False)
def test_it_reports_figures_that_match_the_rows(client, cast, token):
    from sofno.core.access import Actor
    from sofno.directory.models import Customer
    from sofno.events.emit import emit
    from sofno.monitoring import actions
    from sofno.monitoring.models import CheckIn, Device, DeviceStatus
    from sofno.notify.models import Attempt, Delivery, DeliveryStatus

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

    before = parse(_scrape(client).content.decode())
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

    response = _scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = parse(response.content.decode())

    assert value(samples, "sofno_checkins_recent") == 3
    assert value(samples, "sofno_devices", status="online") == 2
    assert value(samples, "sofno_devices", status="offline") == 1
    assert value(samples, "sofno_devices", status="new") == 1
    assert value(samples, "sofno_devices", status="paused") == 0
    assert value(samples, "sofno_sweeper_lag_seconds") == 42
    assert value(samples, "sofno_events_total") - value(before, "sofno_events_total") == 4
    assert value(samples, "sofno_events_recent") - value(before, "sofno_events_recent") == 4
    assert value(samples, "sofno_deliveries", channel="webhook", status="pending") == 3
    assert value(samples, "sofno_deliveries", channel="webhook", status="succeeded") == 1
    assert value(samples, "sofno_deliveries", channel="webhook", status="failed") == 1
    assert value(samples, "sofno_deliveries", channel="webhook", status="cancelled") == 0
    assert value(samples, "sofno_deliveries", channel="email", status="pending") == 0
    assert value(samples, "sofno_deliveries_due") == 2
    assert value(samples, "sofno_delivery_oldest_due_age_seconds") == 90
    assert value(samples, "sofno_delivery_attempts_sampled", outcome="ok") == 2
    assert value(samples, "sofno_delivery_attempts_sampled", outcome="failed") == 1
    bucket = "sofno_delivery_attempt_duration_seconds_bucket"
    assert value(samples, bucket, le="0.05") == 1
    assert value(samples, bucket, le="0.5") == 2
    assert value(samples, bucket, le="5") == 2
    assert value(samples, bucket, le="10") == 3
    assert value(samples, bucket, le="+Inf") == 3
    assert value(samples, "sofno_delivery_attempt_duration_seconds_count") == 3
    assert value(samples, "sofno_delivery_attempt_duration_seconds_sum") == pytest.approx(7.34)
    assert value(samples, "sofno_queue_pending_tasks") >= 0
    for section in ("monitoring", "event", "delivery", "queue"):
        assert value(samples, "sofno_metrics_section_errors", section=section) == 0


def test_it_reports_zero_lag_and_age_when_nothing_is_waiting(client, db, token):
    samples = parse(_scrape(client).content.decode())
    assert value(samples, "sofno_sweeper_lag_seconds") == 0
    assert value(samples, "sofno_delivery_oldest_due_age_seconds") == 0
    assert value(samples, "sofno_delivery_attempt_duration_seconds_count") == 0


def test_it_escapes_label_values():
    from sofno.ops.metrics import Metric, render

    metric = Metric("sofno_x", "gauge", "A test.")
    metric.add(1.5, status='a"b\\c\nd')
    text = render([metric])
    assert 'sofno_x{status="a\\"b\\\\c\\nd"} 1.5' in text
    assert parse(text)
