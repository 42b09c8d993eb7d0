"""The delivery machinery: claim, send, record, retry.

Rules:
- The database is the record of truth. The dispatcher (``notify.routing.dispatcher``) plans
  deliveries from the event log; this module sends whatever is pending and due.
- Work is claimed in batches with ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL;
  SQLite serialises writers) and a compare-and-set to ``sending`` with a lease; a
  worker that dies leaves rows whose lease runs out, and the reconciler puts them
  back. Delivery is therefore at least once, with a stable ``webhook-id``.
- First tries and retries are claimed in separate lanes, so a backlog of retries
  never starves new events.
- Ordered subscriptions: a delivery is claimable only when no earlier delivery of the
  same endpoint and ordering key is still pending or in flight.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone, translation

from sofno.core.env import env_int
from sofno.events.emit import emit
from sofno.notify import reasons as why
from sofno.notify.channels import Result, get_channel
from sofno.notify.models import (
    OPEN_STATUSES,
    Attempt,
    AttemptTrigger,
    Delivery,
    DeliveryStatus,
    WebhookEndpoint,
)

log = logging.getLogger(__name__)


def lease_seconds() -> int:
    """How long a claimed delivery stays ours (``SOFNO_DELIVERY_LEASE_SECONDS``, 60)."""
    return int(
        getattr(settings, "DELIVERY_LEASE_SECONDS", env_int("SOFNO_DELIVERY_LEASE_SECONDS", 60))
    )


def disable_after() -> dt.timedelta:
    """Failing this long without a success disables an endpoint (default 5 days)."""
    days = getattr(
        settings, "WEBHOOK_DISABLE_AFTER_DAYS", env_int("SOFNO_WEBHOOK_DISABLE_AFTER_DAYS", 5)
    )
    return dt.timedelta(days=float(days))


# --- claim -----------------------------------------------------------------------


def _claimable(now: dt.datetime, first_tries: bool):
    earlier_open = Delivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        ordering_key=OuterRef("ordering_key"),
        sequence__lt=OuterRef("sequence"),
        status__in=OPEN_STATUSES,
    )
    deliveries = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
    if first_tries:
        deliveries = deliveries.filter(attempt_count=0)
    else:
        deliveries = deliveries.filter(attempt_count__gt=0)
    return deliveries.filter(
        Q(endpoint__isnull=True) | Q(endpoint__enabled=True),
        Q(ordered=False) | ~Exists(earlier_open),
    )


def claim(limit: int = 500, now: dt.datetime | None = None) -> list[Delivery]:
    """Claim up to ``limit`` due deliveries (at most a quarter of them retries)."""
    now = now or timezone.now()
    retry_share = max(1, limit // 4)
    lanes = ((False, retry_share), (True, limit))
    claimed_ids: list[int] = []
    for first_tries, size in lanes:
        size = min(size, limit - len(claimed_ids))
        if size <= 0:
            break
        with transaction.atomic():
            queryset = _claimable(now, first_tries).order_by("next_attempt_at", "id")
            if connection.features.has_select_for_update_skip_locked:
                queryset = queryset.select_for_update(skip_locked=True, of=("self",))
            ids = list(queryset.values_list("id", flat=True)[:size])
            if ids:
                Delivery.objects.filter(id__in=ids, status=DeliveryStatus.PENDING).update(
                    status=DeliveryStatus.SENDING,
                    lease_until=now + dt.timedelta(seconds=lease_seconds()),
                )
        claimed_ids += ids
    if not claimed_ids:
        return []
    return list(
        Delivery.objects.filter(id__in=claimed_ids, status=DeliveryStatus.SENDING)
        .select_related("event", "endpoint", "organization")
        .order_by("sequence")
    )


def _apply_rate_limits(deliveries: list[Delivery], now: dt.datetime) -> list[Delivery]:
    """Keep what each rate-limited endpoint may send this second; put the rest back."""
    limited: dict[int, list[Delivery]] = defaultdict(list)
    allowed = []
    for delivery in deliveries:
        endpoint = delivery.endpoint
        if endpoint is not None and endpoint.rate_limit:
            limited[endpoint.pk].append(delivery)
        else:
            allowed.append(delivery)
    second = int(now.timestamp())
    for endpoint_id, group in limited.items():
        with transaction.atomic():
            endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
            used = endpoint.rate_count if endpoint.rate_window == second else 0
            grant = max(0, min(len(group), endpoint.rate_limit - used))
            WebhookEndpoint.objects.filter(pk=endpoint_id).update(
                rate_window=second, rate_count=used + grant
            )
        # Ordered groups are sorted by sequence, so the granted ones are the earliest.
        allowed += group[:grant]
        deferred = [d.pk for d in group[grant:]]
        if deferred:
            Delivery.objects.filter(pk__in=deferred, status=DeliveryStatus.SENDING).update(
                status=DeliveryStatus.PENDING,
                lease_until=None,
                next_attempt_at=dt.datetime.fromtimestamp(second + 1, tz=dt.UTC),
            )
    return allowed


# --- send and record -------------------------------------------------------------


def deliver_due(limit: int = 500, now: dt.datetime | None = None) -> int:
    """Claim one batch, send it and record the attempts; returns how many were tried."""
    now = now or timezone.now()
    deliveries = _apply_rate_limits(claim(limit, now), now)
    if not deliveries:
        return 0
    by_channel: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_channel[delivery.channel].append(delivery)
    for kind, group in by_channel.items():
        started = timezone.now()
        try:
            results = get_channel(kind).send_many(group)
        except Exception as exc:  # a broken adapter: record it as failed tries, not a crash
            log.exception("channel %s failed", kind)
            results = [Result(ok=False, detail=f"{type(exc).__name__}: {exc}"[:500])] * len(group)
        record(group, results, started)
    return len(deliveries)


def deliver_all(max_seconds: float = 30.0, limit: int = 500) -> int:
    """Run :func:`deliver_due` until nothing is due or ``max_seconds`` passed."""
    deadline = time.monotonic() + max_seconds
    total = 0
    while time.monotonic() < deadline:
        sent = deliver_due(limit)
        total += sent
        if not sent:
            break
    return total


def record(deliveries: list[Delivery], results: list[Result], started: dt.datetime) -> None:
    """Store one attempt per delivery and move each delivery on.

    - success: ``succeeded``; 410: ``failed`` and the endpoint disabled;
    - otherwise the next try on the schedule, or ``failed`` (a dead letter) when the
      schedule is used up; either way the endpoint's failing clock runs.
    """
    now = timezone.now()
    attempts, succeeded, retried, dead = [], defaultdict(list), [], []
    ok_endpoints, failed_endpoints, gone_endpoints = set(), set(), set()
    for delivery, result in zip(deliveries, results, strict=True):
        number = delivery.attempt_count + 1
        next_at = None
        if result.ok:
            succeeded[result.status_code].append(delivery.pk)
            if delivery.endpoint_id:
                ok_endpoints.add(delivery.endpoint_id)
        else:
            delay = None
            if not result.permanent:
                delay = delivery.retry_delay(number, result.retry_after, result.min_delay)
            if delay is None:
                dead.append((delivery, result))
            else:
                next_at = now + dt.timedelta(seconds=delay)
                delivery.next_attempt_at = next_at
                retried.append((delivery, result))
            if delivery.endpoint_id:
                failed_endpoints.add(delivery.endpoint_id)
                if result.disable_target:
                    gone_endpoints.add(delivery.endpoint_id)
        attempts.append(
            Attempt(
                delivery=delivery,
                number=number,
                trigger=AttemptTrigger.MANUAL if delivery.manual else AttemptTrigger.SCHEDULED,
                started_at=started,
                duration_ms=result.duration_ms,
                ok=result.ok,
                status_code=result.status_code,
                detail=result.detail[:500],
                response=result.response,
                provider_ref=result.provider_ref[:200],
                next_attempt_at=next_at,
            )
        )
    with transaction.atomic():
        Attempt.objects.bulk_create(attempts, batch_size=1000)
        sending = Q(status=DeliveryStatus.SENDING)
        for code, ids in succeeded.items():
            Delivery.objects.filter(sending, id__in=ids).update(
                status=DeliveryStatus.SUCCEEDED,
                attempt_count=F("attempt_count") + 1,
                finished_at=now,
                lease_until=None,
                manual=False,
                last_status_code=code,
                last_detail="",
            )
        for delivery, result in retried:
            Delivery.objects.filter(sending, id=delivery.pk).update(
                status=DeliveryStatus.PENDING,
                attempt_count=F("attempt_count") + 1,
                next_attempt_at=delivery.next_attempt_at,
                lease_until=None,
                manual=False,
                last_status_code=result.status_code,
                last_detail=result.detail[:500],
            )
        for delivery, result in dead:
            Delivery.objects.filter(sending, id=delivery.pk).update(
                status=DeliveryStatus.FAILED,
                attempt_count=F("attempt_count") + 1,
                finished_at=now,
                lease_until=None,
                manual=False,
                last_status_code=result.status_code,
                last_detail=result.detail[:500],
            )
        _endpoint_health(ok_endpoints, failed_endpoints - ok_endpoints, gone_endpoints, now)
        for delivery, result in dead:
            if delivery.endpoint_id and not result.disable_target:
                _operational(
                    delivery.endpoint,
                    "webhook.delivery.exhausted",
                    delivery=str(delivery.public_id),
                    event_id=str(delivery.event.public_id),
                    event_type=delivery.event.type,
                    attempts=delivery.attempt_count + 1,
                    detail=result.detail,
                )


def _operational(endpoint: WebhookEndpoint, type: str, **data: object) -> None:
    emit(
        endpoint.organization,
        type,
        f"webhook:{endpoint.public_id}",
        {"endpoint": {"id": str(endpoint.public_id), "url": endpoint.url}, **data},
    )


def _endpoint_health(ok: set[int], failed: set[int], gone: set[int], now: dt.datetime) -> None:
    """Reset the failing clock on success; start it, or disable, on failure."""
    if ok:
        WebhookEndpoint.objects.filter(id__in=ok).update(last_success_at=now, failing_since=None)
    for endpoint_id in failed | gone:
        started = WebhookEndpoint.objects.filter(id=endpoint_id, failing_since__isnull=True).update(
            failing_since=now
        )
        endpoint = WebhookEndpoint.objects.select_related("organization").get(id=endpoint_id)
        if started:
            _operational(endpoint, "webhook.endpoint.failing", since=now.isoformat())
        if endpoint_id in gone:
            code, params = why.WEBHOOK_GONE, {}
        elif endpoint.failing_since and endpoint.failing_since <= now - disable_after():
            code, params = why.WEBHOOK_FAILING, {"since": why.moment(endpoint.failing_since)}
        else:
            continue
        disabled = WebhookEndpoint.objects.filter(id=endpoint_id, enabled=True).update(
            enabled=False,
            disabled_at=now,
            disabled_code=code,
            disabled_params=params,
            disabled_reason="",
        )
        if disabled:
            # The event's payload is data for receivers: the code to match on, and
            # the words in English like the rest of the payload.
            with translation.override("en"):
                words = why.describe(code, params)
            _operational(endpoint, "webhook.endpoint.disabled", reason=words, reason_code=code)


# --- reconcile -------------------------------------------------------------------


def release_expired(now: dt.datetime | None = None) -> int:
    """Put in-flight deliveries whose lease ran out (their worker died) back in line."""
    now = now or timezone.now()
    return Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_until__lt=now).update(
        status=DeliveryStatus.PENDING, lease_until=None
    )


def has_due_work(now: dt.datetime | None = None) -> bool:
    """Whether any delivery is pending and due."""
    now = now or timezone.now()
    return Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now).exists()
