"""Changes to the events app's records: validated, atomic and audited."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from sofno.core.access import Actor
from sofno.core.modeling import apply_fields, save_audited
from sofno.core.models import Organization
from sofno.events import catalog
from sofno.events.emit import emit
from sofno.events.event_types import TEMPLATE_CATALOGS
from sofno.events.models import Consumer, CustomEventType, Event, TimeTrigger

# Long-poll bounds: a consumer waits at most this long; the log is re-read this often.
MAX_WAIT_SECONDS = 25.0
POLL_INTERVAL_SECONDS = 0.5


def _check_types(organization: Organization, field: str, patterns: list[str]) -> None:
    unknown = catalog.unknown_patterns(organization, patterns)
    if unknown:
        raise ValidationError(
            {field: [ValidationError(f"unknown event type {unknown[0]!r}", code="unknown")]}
        )


# --- event log -------------------------------------------------------------------


def post_event(
    *,
    acting_user: Actor,
    type: str,
    subject: str = "",
    data: dict[str, Any] | None = None,
    ordering_key: str = "",
    occurred_at: dt.datetime | None = None,
    idempotency_key: str | None = None,
) -> tuple[Event, bool]:
    """Record an event posted by an external system; returns ``(event, created)``.

    - ``type`` must be a built-in or one of the organization's custom types;
    - with an ``idempotency_key``, a retry returns the first event instead of a copy.
    """
    acting_user.require_write()
    organization = acting_user.organization
    if not catalog.known(organization, type):
        raise ValidationError(
            {"type": [ValidationError(f"unknown event type {type!r}", code="unknown")]}
        )
    if idempotency_key:
        found = Event.objects.filter(
            organization=organization, idempotency_key=idempotency_key
        ).first()
        if found is not None:
            return found, False
    source = f"api:{acting_user.api_key.prefix}" if acting_user.api_key else "web"
    try:
        with transaction.atomic():
            event = emit(
                organization,
                type,
                subject,
                data or {},
                ordering_key,
                occurred_at=occurred_at,
                source=source,
                idempotency_key=idempotency_key or None,
            )
    except IntegrityError:
        # Two retries raced: the other one stored it; answer with that row.
        found = Event.objects.filter(
            organization=organization, idempotency_key=idempotency_key
        ).first()
        if found is None or not idempotency_key:
            raise
        return found, False
    return event, True


# --- custom event types ----------------------------------------------------------


@transaction.atomic
def create_custom_type(*, acting_user: Actor, fields: dict[str, Any]) -> CustomEventType:
    """Add an organization-defined event type (admins only).

    - the name is lower-case dotted (``invoice.overdue``) and not a built-in type.
    """
    acting_user.require_admin()
    name = fields["name"]
    if catalog.builtin(name):
        raise ValidationError({"name": [ValidationError("is a built-in type", code="builtin")]})
    if CustomEventType.objects.filter(organization=acting_user.organization, name=name).exists():
        raise ValidationError({"name": [ValidationError("already exists", code="unique")]})
    custom = CustomEventType(organization=acting_user.organization)
    apply_fields(custom, fields)
    save_audited(acting_user, custom, "event_type.created", name=name)
    return custom


@transaction.atomic
def update_custom_type(
    *, acting_user: Actor, custom: CustomEventType, fields: dict[str, Any]
) -> CustomEventType:
    """Change a custom type's description, category or tokens (the name stays)."""
    acting_user.require_admin()
    fields.pop("name", None)
    changed = apply_fields(custom, fields)
    save_audited(acting_user, custom, "event_type.updated", fields=changed)
    return custom


@transaction.atomic
def delete_custom_type(*, acting_user: Actor, custom: CustomEventType) -> None:
    """Remove a custom type; events already recorded keep their type name."""
    acting_user.require_admin()
    acting_user.audit("event_type.deleted", custom, name=custom.name)
    custom.delete()


@transaction.atomic
def install_catalog(*, acting_user: Actor, name: str) -> list[CustomEventType]:
    """Add a ready-made set of custom types (``billing``); existing names are kept."""
    acting_user.require_admin()
    if name not in TEMPLATE_CATALOGS:
        raise ValidationError({"catalog": [ValidationError("unknown catalog", code="unknown")]})
    organization = acting_user.organization
    existing = set(
        CustomEventType.objects.filter(organization=organization).values_list("name", flat=True)
    )
    created = []
    for event_type in TEMPLATE_CATALOGS[name]:
        if event_type.name in existing or catalog.builtin(event_type.name):
            continue
        # Stored as plain text: the organization owns (and may edit) its copy.
        created.append(
            CustomEventType.objects.create(
                organization=organization,
                name=event_type.name,
                description=str(event_type.description),
                category=event_type.category,
                tokens=[
                    {
                        "name": t.name,
                        "type": t.type,
                        "description": str(t.description),
                        "example": t.example,
                    }
                    for t in event_type.tokens
                ],
            )
        )
    for custom in created:
        acting_user.audit("event_type.created", custom, name=custom.name, catalog=name)
    return created


# --- time triggers ---------------------------------------------------------------


def _check_trigger(trigger: TimeTrigger) -> None:
    organization = trigger.organization
    errors: dict[str, list[ValidationError]] = {}
    for field in ("source_type", "emit_type"):
        if not catalog.known(organization, getattr(trigger, field)):
            errors[field] = [ValidationError("unknown event type", code="unknown")]
    if trigger.source_type == trigger.emit_type:
        errors["emit_type"] = [
            ValidationError("must differ from source_type (it would loop)", code="loop")
        ]
    if trigger.timezone_source == "fixed" and not trigger.timezone:
        errors["timezone"] = [ValidationError("required for a fixed timezone", code="required")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_trigger(
    *, acting_user: Actor, fields: dict[str, Any], trigger: TimeTrigger | None = None
) -> TimeTrigger:
    """Create or change a time trigger (admins only)."""
    acting_user.require_admin()
    created = trigger is None
    trigger = trigger or TimeTrigger(organization=acting_user.organization)
    apply_fields(trigger, fields)
    # The catalog's rules are judged on fields already sound; save_audited checks
    # them again (a few queries on an admin's change) to name a race's loser.
    trigger.full_clean()
    _check_trigger(trigger)
    save_audited(acting_user, trigger, "trigger.created" if created else "trigger.updated")
    return trigger


@transaction.atomic
def delete_trigger(*, acting_user: Actor, trigger: TimeTrigger) -> None:
    """Delete a trigger and its pending due rows."""
    acting_user.require_admin()
    acting_user.audit("trigger.deleted", trigger, name=trigger.name)
    trigger.delete()


# --- pull consumers --------------------------------------------------------------


@transaction.atomic
def save_consumer(
    *, acting_user: Actor, fields: dict[str, Any], consumer: Consumer | None = None
) -> Consumer:
    """Create or change a pull consumer (admins only).

    - a new consumer starts at the current end of the log unless ``cursor`` is given.
    """
    acting_user.require_admin()
    created = consumer is None
    if "event_types" in fields:
        _check_types(acting_user.organization, "event_types", fields["event_types"])
    if consumer is None:
        consumer = Consumer(organization=acting_user.organization)
        if fields.get("cursor") is None:
            fields["cursor"] = _head(acting_user.organization.pk)
    if fields.get("cursor") is None:
        fields.pop("cursor", None)
    apply_fields(consumer, fields)
    save_audited(acting_user, consumer, "consumer.created" if created else "consumer.updated")
    return consumer


@transaction.atomic
def delete_consumer(*, acting_user: Actor, consumer: Consumer) -> None:
    """Delete a pull consumer."""
    acting_user.require_admin()
    acting_user.audit("consumer.deleted", consumer, name=consumer.name)
    consumer.delete()


def consumer_events(consumer: Consumer, after: int, limit: int) -> QuerySet[Event]:
    """The consumer's events after sequence ``after``, oldest first."""
    events = Event.objects.filter(organization_id=consumer.organization_id, sequence__gt=after)
    types = consumer.event_types or []
    if types and "*" not in types:
        exact = [t for t in types if not t.endswith(".*")]
        query = Q(type__in=exact)
        for pattern in types:
            if pattern.endswith(".*"):
                query |= Q(type__startswith=pattern[:-1])
        events = events.filter(query)
    return events.order_by("sequence")[:limit]


def _head(organization_id: int) -> int:
    return (
        Event.objects.filter(organization_id=organization_id)
        .order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
        or 0
    )


def read_consumer(
    consumer: Consumer, after: int, limit: int, wait: float
) -> tuple[list[Event], int]:
    """Events after ``after`` and the cursor to read from next.

    - when there are none, waits up to ``wait`` seconds (capped at
      ``MAX_WAIT_SECONDS``), re-reading one indexed range every half second, so a
      parked request costs a thread but little database;
    - the next cursor skips past events the filter leaves out: sequence order is
      commit order, so everything up to the head read first has been seen.
    """
    deadline = time.monotonic() + min(max(wait, 0.0), MAX_WAIT_SECONDS)
    while True:
        head = _head(consumer.organization_id)
        events = list(consumer_events(consumer, after, limit))
        if len(events) == limit:
            return events, events[-1].sequence
        next_cursor = max(after, head, events[-1].sequence if events else 0)
        remaining = deadline - time.monotonic()
        if events or remaining <= 0:
            return events, next_cursor
        time.sleep(min(POLL_INTERVAL_SECONDS, remaining))


def commit_cursor(*, acting_user: Actor, consumer: Consumer, cursor: int) -> Consumer:
    """Record how far the consumer has read (readers with write access only).

    - the cursor may not pass the end of the log.
    """
    acting_user.require_write()
    last = _head(acting_user.organization.pk)
    if cursor < 0 or cursor > last:
        raise ValidationError(
            {"cursor": [ValidationError(f"must be between 0 and {last}", code="range")]}
        )
    now = timezone.now()
    Consumer.objects.filter(pk=consumer.pk).update(cursor=cursor, cursor_committed_at=now)
    consumer.cursor, consumer.cursor_committed_at = cursor, now
    return consumer
