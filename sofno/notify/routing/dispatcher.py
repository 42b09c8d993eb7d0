"""The dispatcher: one cursor, one planning step, one reconcile loop for every subscriber.

Rules:
- each organization's event log is read from ONE cursor (``DispatchCursor``), advanced
  in the same transaction as everything planned from the events it passes: an event
  is planned exactly once, whatever the queue does, and a crash rolls the cursor back
  with the plan, so the reconcile loop plans it again;
- one planning step per batch serves every kind of subscription: a webhook endpoint is
  a subscription whose recipient is a URL (every event it selects, unfiltered, one
  delivery per endpoint, ordered or not as the endpoint says), and the notification
  rules route the same events to people (``notify.routing.router``);
- one dispatcher per organization at a time: the cursor row is locked with
  ``SKIP LOCKED``, so another worker skips the organization instead of waiting;
- the queue only wakes work up: the ``notify.reconcile`` loop dispatches every
  organization whose log is ahead of its cursor, puts deliveries whose lease ran out
  back in line, releases held notifications whose hold ended, and wakes the senders.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from huey.contrib.djhuey import db_task

from sofno.core.queue import wake_once
from sofno.events.models import Event, EventCounter
from sofno.notify.delivery import machinery as delivery
from sofno.notify.delivery import tasks
from sofno.notify.models import Delivery, DispatchCursor, NotificationRule, WebhookEndpoint
from sofno.notify.routing import planning
from sofno.notify.routing import router as routing

DISPATCH_BATCH = 500


def plan_webhooks(
    events: list[Event], endpoints: list[WebhookEndpoint], now: dt.datetime
) -> list[Delivery]:
    """The deliveries (unsaved) of webhook subscriptions: one per endpoint that wants
    the event, ordered as the endpoint is, due now."""
    return [
        Delivery(
            organization_id=event.organization_id,
            event=event,
            endpoint=endpoint,
            ordered=endpoint.is_ordered,
            ordering_key=event.ordering_key,
            sequence=event.sequence,
            next_attempt_at=now,
            created_at=now,
        )
        for event in events
        for endpoint in endpoints
        if endpoint.wants(event)
    ]


def dispatch_organization(organization_id: int, batch: int = DISPATCH_BATCH) -> int:
    """Plan the next events of one organization for every subscription (webhook
    endpoints and notification rules); returns how many events were read."""
    DispatchCursor.objects.bulk_create(
        [DispatchCursor(organization_id=organization_id)], ignore_conflicts=True
    )
    with transaction.atomic():
        # One dispatcher per organization at a time; the others skip, not wait.
        cursor = (
            DispatchCursor.objects.select_for_update(skip_locked=True)
            .filter(organization_id=organization_id)
            .first()
        )
        if cursor is None:
            return 0
        events = list(
            Event.objects.filter(organization_id=organization_id, sequence__gt=cursor.last_sequence)
            .select_related("organization")
            .order_by("sequence")[:batch]
        )
        if not events:
            return 0
        endpoints = list(
            WebhookEndpoint.objects.filter(organization_id=organization_id, enabled=True)
        )
        rule_list = list(
            NotificationRule.objects.filter(organization_id=organization_id, enabled=True)
            .select_related("customer", "device", "fallback_user")
            .order_by("pk")
        )
        # ignore_conflicts: an event planned again (the cursor moved back when the two
        # cursors were merged) never gives an endpoint a second delivery.
        Delivery.objects.bulk_create(
            plan_webhooks(events, endpoints, timezone.now()),
            batch_size=1000,
            ignore_conflicts=True,
        )
        with planning.caching():
            for event in events:
                routing.route_event(event, rule_list)
        DispatchCursor.objects.filter(pk=cursor.pk).update(last_sequence=events[-1].sequence)
    return len(events)


def lagging_organizations() -> list[int]:
    """Organizations whose log has events the dispatcher has not read yet."""
    ahead = DispatchCursor.objects.filter(
        organization_id=OuterRef("organization_id"), last_sequence__gte=OuterRef("last_sequence")
    )
    return list(
        EventCounter.objects.filter(last_sequence__gt=0)
        .filter(~Exists(ahead))
        .values_list("organization_id", flat=True)
    )


def dispatch_pending() -> int:
    """Dispatch every lagging organization until it has caught up; returns events read."""
    total = 0
    for organization_id in lagging_organizations():
        while True:
            read = dispatch_organization(organization_id)
            total += read
            if read < DISPATCH_BATCH:
                break
    return total


# --- queue and loop --------------------------------------------------------------


@db_task()
def dispatch_task(organization_id: int) -> int:
    """Plan an organization's new events, then send what is due."""
    total = read = dispatch_organization(organization_id)
    while read == DISPATCH_BATCH:
        read = dispatch_organization(organization_id)
        total += read
    tasks.deliver_task()
    return total


def on_events_committed(events: list) -> None:
    """``events.on_committed`` listener: dispatch each organization that emitted."""
    for organization_id in sorted({e.organization_id for e in events}):
        wake_once(dispatch_task, organization_id)  # one pending per organization


def reconcile() -> None:
    """The ``notify.reconcile`` loop: the database, not the queue, says what is due.

    - in-flight deliveries whose lease ran out go back in line;
    - organizations with events not yet planned are dispatched;
    - held notifications whose hold ended are released (or dropped);
    - when deliveries are due, a delivery task is enqueued.
    """
    delivery.release_expired()
    dispatch_pending()
    if routing.release_due():
        tasks.deliver_task()
    if delivery.has_due_work():
        tasks.wake()
