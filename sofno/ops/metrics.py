"""Prometheus metrics, built from the database at scrape time with ``prometheus_client``.

Rules:
- Every figure is one cheap aggregate over an indexed column (a COUNT ... GROUP BY, a
  MIN, a SUM over one row per organization) or the queue's own pending count; a
  scrape never walks a history table.
- Windowed figures say so in their name (``_recent``) and cover the last
  ``RECENT_SECONDS``; the attempt-latency histogram covers the last
  ``LATENCY_SAMPLE`` attempts (read newest first by primary key).
- Nothing is kept in the process between scrapes: a custom collector reads the rows
  each time, so every worker process answers the same figures.
- The collector lives in a private registry: the library's default one would add
  this process's own figures (and its ``python_*`` names) to ``/metrics``.
- Other apps' models are imported inside the functions: a change there breaks only
  the metrics (and their test), never the import of this module.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

from django.db.models import Count, Min, Sum
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from sofno.core.channels import Channel
from sofno.core.queue import oldest_task_age
from sofno.events.models import Event, EventCounter
from sofno.monitoring.models import CheckIn, Device, DeviceStatus
from sofno.notify.models import Attempt, Delivery, DeliveryStatus

RECENT_SECONDS = 300
LATENCY_SAMPLE = 1000
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# The text format 0.0.4: what ``generate_latest`` writes for these (plain) names.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

Section = Callable[[], list[Metric]]


def _since(moment: dt.datetime | None) -> float:
    return max(0.0, (timezone.now() - moment).total_seconds()) if moment else 0.0


def _bound(seconds: float) -> str:
    """A bucket's ``le`` as served before the library (``"5"``, not ``"5.0"``), so the
    series keep their identity across the change."""
    return f"{seconds:g}"


def monitoring_metrics() -> list[Metric]:
    """Check-ins, devices by status, and how far the offline sweeper lags."""
    now = timezone.now()
    recent = now - dt.timedelta(seconds=RECENT_SECONDS)
    checkins = GaugeMetricFamily(
        "sofno_checkins_recent",
        f"Check-ins acknowledged in the last {RECENT_SECONDS} seconds.",
        value=CheckIn.objects.filter(at__gte=recent).count(),
    )

    devices = GaugeMetricFamily("sofno_devices", "Devices by status.", labels=["status"])
    by_status = dict(
        Device.objects.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    for status in DeviceStatus.values:
        devices.add_metric([status], by_status.get(status, 0))

    # The most overdue device still shown online: the sweeper flips it within a tick,
    # so anything above a few seconds means it is behind (or not running).
    overdue = Device.objects.filter(status=DeviceStatus.ONLINE, alert_after__lte=now).aggregate(
        oldest=Min("alert_after")
    )["oldest"]
    lag = GaugeMetricFamily(
        "sofno_sweeper_lag_seconds",
        "How long the most overdue online device has waited to be marked offline.",
        value=_since(overdue),
    )
    return [checkins, devices, lag]


def event_metrics() -> list[Metric]:
    """Events recorded: ever (from each organization's sequence) and lately."""
    total = CounterMetricFamily(
        "sofno_events_total",
        "Events recorded since installation.",
        value=EventCounter.objects.aggregate(n=Sum("last_sequence"))["n"] or 0,
    )
    since = timezone.now() - dt.timedelta(seconds=RECENT_SECONDS)
    recent = GaugeMetricFamily(
        "sofno_events_recent",
        f"Events recorded in the last {RECENT_SECONDS} seconds.",
        value=Event.objects.filter(recorded_at__gte=since).count(),
    )
    return [total, recent]


def delivery_metrics() -> list[Metric]:
    """Deliveries by channel and outcome, the oldest due one, and attempt latency."""
    now = timezone.now()
    deliveries = GaugeMetricFamily(
        "sofno_deliveries",
        "Stored deliveries by channel and status.",
        labels=["channel", "status"],
    )
    rows = Delivery.objects.order_by().values("channel", "status").annotate(n=Count("id"))
    counts = {(row["channel"], row["status"]): row["n"] for row in rows}
    # Every known pair, zeros included, so a series does not vanish when it empties.
    pairs = {(c, s) for c in Channel.values for s in DeliveryStatus.values} | set(counts)
    for channel, status in sorted(pairs):
        deliveries.add_metric([channel, status], counts.get((channel, status), 0))

    due = Delivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).aggregate(oldest=Min("next_attempt_at"), n=Count("id"))
    due_count = GaugeMetricFamily(
        "sofno_deliveries_due", "Pending deliveries whose time has come.", value=due["n"]
    )
    oldest = GaugeMetricFamily(
        "sofno_delivery_oldest_due_age_seconds",
        "How long the oldest pending delivery has been due (0 when none is due).",
        value=_since(due["oldest"]),
    )

    sample = list(Attempt.objects.order_by("-id").values_list("duration_ms", "ok")[:LATENCY_SAMPLE])
    outcomes = GaugeMetricFamily(
        "sofno_delivery_attempts_sampled",
        f"The last {LATENCY_SAMPLE} delivery attempts by outcome.",
        labels=["outcome"],
    )
    outcomes.add_metric(["ok"], sum(1 for _, ok in sample if ok))
    outcomes.add_metric(["failed"], sum(1 for _, ok in sample if not ok))
    return [deliveries, due_count, oldest, outcomes, _latency([ms / 1000 for ms, _ in sample])]


def _latency(seconds: Sequence[float]) -> HistogramMetricFamily:
    """The attempt durations as a histogram of cumulative buckets."""
    buckets = [(_bound(bound), sum(1 for s in seconds if s <= bound)) for bound in LATENCY_BUCKETS]
    return HistogramMetricFamily(
        "sofno_delivery_attempt_duration_seconds",
        f"Duration of the last {LATENCY_SAMPLE} delivery attempts (a sliding sample).",
        buckets=[*buckets, ("+Inf", len(seconds))],
        sum_value=round(sum(seconds), 3),
    )


def queue_metrics() -> list[Metric]:
    """Tasks waiting in the queue, and how long the next one has waited."""
    from huey.contrib.djhuey import HUEY

    depth = GaugeMetricFamily(
        "sofno_queue_pending_tasks", "Tasks waiting in the task queue.", value=HUEY.pending_count()
    )
    age = GaugeMetricFamily(
        "sofno_queue_oldest_task_age_seconds",
        "How long the next task in the queue has waited (0 when the queue is empty).",
        value=round(oldest_task_age(HUEY), 3),
    )
    return [depth, age]


SECTIONS: tuple[Section, ...] = (
    monitoring_metrics,
    event_metrics,
    delivery_metrics,
    queue_metrics,
)


class SofnoCollector(Collector):
    """Reads every section at scrape time; a section that fails is reported as such
    (``sofno_metrics_section_errors``), not as a failed scrape."""

    def __init__(self, sections: Iterable[Section] = SECTIONS) -> None:
        self.sections = tuple(sections)

    def collect(self) -> Iterator[Metric]:
        """Every section's families, then the section errors and the scrape's time."""
        errors = GaugeMetricFamily(
            "sofno_metrics_section_errors",
            "1 when a section of the metrics failed.",
            labels=["section"],
        )
        started = time.monotonic()
        for section in self.sections:
            name = section.__name__.removesuffix("_metrics")
            try:
                # All of a section or none of it: a half-built section is not served.
                families = section()
            except Exception:  # one broken source must not hide the others
                logging.getLogger(__name__).exception("metrics section %s failed", name)
                errors.add_metric([name], 1)
                continue
            errors.add_metric([name], 0)
            yield from families
        yield errors
        yield GaugeMetricFamily(
            "sofno_metrics_scrape_seconds",
            "Time spent computing these metrics.",
            value=round(time.monotonic() - started, 4),
        )


REGISTRY = CollectorRegistry()
REGISTRY.register(SofnoCollector())


def exposition(registry: CollectorRegistry = REGISTRY) -> bytes:
    """The text served at ``/metrics`` (its media type is ``CONTENT_TYPE``)."""
    return generate_latest(registry)
