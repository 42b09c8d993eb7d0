"""Prometheus metrics in the text exposition format (version 0.0.4), written by hand.

Rules:
- Every figure is one cheap aggregate over an indexed column (a COUNT ... GROUP BY, a
  MIN, a SUM over one row per organization) or the queue's own pending count; a
  scrape never walks a history table.
- Windowed figures say so in their name (``_recent``) and cover the last
  ``RECENT_SECONDS``; the attempt-latency histogram covers the last
  ``LATENCY_SAMPLE`` attempts (read newest first by primary key).
- Other apps' models are imported inside the functions: a change there breaks only
  the metrics (and their test), never the import of this module.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Min, Sum
from django.utils import timezone

RECENT_SECONDS = 300
LATENCY_SAMPLE = 1000
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class Metric:
    """One metric family: its name, type, help text and samples."""

    name: str
    kind: str
    help: str
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float, suffix: str = "", **labels: str) -> None:
        self.samples.append((self.name + suffix, labels, value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def render(metrics: Iterable[Metric]) -> str:
    """The exposition text for ``metrics``."""
    lines = []
    for metric in metrics:
        lines.append(f"# HELP {metric.name} {metric.help}")
        lines.append(f"# TYPE {metric.name} {metric.kind}")
        for name, labels, value in metric.samples:
            label_text = ",".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(labels.items()))
            lines.append(
                f"{name}{{{label_text}}} {_number(value)}" if labels else f"{name} {_number(value)}"
            )
    return "\n".join(lines) + "\n"


def _since(moment) -> float:
    return max(0.0, (timezone.now() - moment).total_seconds()) if moment else 0.0


def monitoring_metrics() -> list[Metric]:
    """Check-ins, devices by status, and how far the offline sweeper lags."""
    from sofno.monitoring.models import CheckIn, Device, DeviceStatus

    now = timezone.now()
    checkins = Metric(
        "sofno_checkins_recent",
        "gauge",
        f"Check-ins acknowledged in the last {RECENT_SECONDS} seconds.",
    )
    recent = now - timezone.timedelta(seconds=RECENT_SECONDS)
    checkins.add(CheckIn.objects.filter(at__gte=recent).count())

    devices = Metric("sofno_devices", "gauge", "Devices by status.")
    by_status = dict(
        Device.objects.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    for status in DeviceStatus.values:
        devices.add(by_status.get(status, 0), status=status)

    # The most overdue device still shown online: the sweeper flips it within a tick,
    # so anything above a few seconds means it is behind (or not running).
    overdue = Device.objects.filter(status=DeviceStatus.ONLINE, alert_after__lte=now).aggregate(
        oldest=Min("alert_after")
    )["oldest"]
    lag = Metric(
        "sofno_sweeper_lag_seconds",
        "gauge",
        "How long the most overdue online device has waited to be marked offline.",
    )
    lag.add(_since(overdue))
    return [checkins, devices, lag]


def event_metrics() -> list[Metric]:
    """Events recorded: ever (from each organization's sequence) and lately."""
    from sofno.events.models import Event, EventCounter

    total = Metric("sofno_events_total", "counter", "Events recorded since installation.")
    total.add(EventCounter.objects.aggregate(n=Sum("last_sequence"))["n"] or 0)
    recent = Metric(
        "sofno_events_recent", "gauge", f"Events recorded in the last {RECENT_SECONDS} seconds."
    )
    since = timezone.now() - timezone.timedelta(seconds=RECENT_SECONDS)
    recent.add(Event.objects.filter(recorded_at__gte=since).count())
    return [total, recent]


def delivery_metrics() -> list[Metric]:
    """Deliveries by channel and outcome, the oldest due one, and attempt latency."""
    from sofno.notify.models import Attempt, Channel, Delivery, DeliveryStatus

    now = timezone.now()
    deliveries = Metric("sofno_deliveries", "gauge", "Stored deliveries by channel and status.")
    rows = Delivery.objects.order_by().values("channel", "status").annotate(n=Count("id"))
    counts = {(row["channel"], row["status"]): row["n"] for row in rows}
    # Every known pair, zeros included, so a series does not vanish when it empties.
    pairs = {(c, s) for c in Channel.values for s in DeliveryStatus.values} | set(counts)
    for channel, status in sorted(pairs):
        deliveries.add(counts.get((channel, status), 0), channel=channel, status=status)

    due = Delivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).aggregate(oldest=Min("next_attempt_at"), n=Count("id"))
    oldest = Metric(
        "sofno_delivery_oldest_due_age_seconds",
        "gauge",
        "How long the oldest pending delivery has been due (0 when none is due).",
    )
    oldest.add(_since(due["oldest"]))
    due_count = Metric("sofno_deliveries_due", "gauge", "Pending deliveries whose time has come.")
    due_count.add(due["n"])

    latency = Metric(
        "sofno_delivery_attempt_duration_seconds",
        "histogram",
        f"Duration of the last {LATENCY_SAMPLE} delivery attempts (a sliding sample).",
    )
    sample = list(Attempt.objects.order_by("-id").values_list("duration_ms", "ok")[:LATENCY_SAMPLE])
    outcomes = Metric(
        "sofno_delivery_attempts_sampled",
        "gauge",
        f"The last {LATENCY_SAMPLE} delivery attempts by outcome.",
    )
    outcomes.add(sum(1 for _, ok in sample if ok), outcome="ok")
    outcomes.add(sum(1 for _, ok in sample if not ok), outcome="failed")
    seconds = [ms / 1000 for ms, _ in sample]
    for bound in LATENCY_BUCKETS:
        latency.add(sum(1 for s in seconds if s <= bound), "_bucket", le=_number(bound))
    latency.add(len(seconds), "_bucket", le="+Inf")
    latency.add(round(sum(seconds), 3), "_sum")
    latency.add(len(seconds), "_count")
    return [deliveries, due_count, oldest, outcomes, latency]


def queue_metrics() -> list[Metric]:
    """Tasks waiting in the queue, and how long the next one has waited."""
    from huey.contrib.djhuey import HUEY

    from sofno.core.queue import oldest_task_age

    depth = Metric("sofno_queue_pending_tasks", "gauge", "Tasks waiting in the task queue.")
    depth.add(HUEY.pending_count())
    age = Metric(
        "sofno_queue_oldest_task_age_seconds",
        "gauge",
        "How long the next task in the queue has waited (0 when the queue is empty).",
    )
    age.add(round(oldest_task_age(HUEY), 3))
    return [depth, age]


SECTIONS = (monitoring_metrics, event_metrics, delivery_metrics, queue_metrics)


def collect() -> list[Metric]:
    """Every metric; a section that fails is reported as such, not as a failed scrape."""
    metrics: list[Metric] = []
    errors = Metric(
        "sofno_metrics_section_errors", "gauge", "1 when a section of the metrics failed."
    )
    started = time.monotonic()
    for section in SECTIONS:
        try:
            metrics.extend(section())
            errors.add(0, section=section.__name__.removesuffix("_metrics"))
        except Exception:  # one broken source must not hide the others
            logging.getLogger(__name__).exception("metrics section %s failed", section.__name__)
            errors.add(1, section=section.__name__.removesuffix("_metrics"))
    took = Metric("sofno_metrics_scrape_seconds", "gauge", "Time spent computing these metrics.")
    took.add(round(time.monotonic() - started, 4))
    return [*metrics, errors, took]
