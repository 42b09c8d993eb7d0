"""The event catalog, the event log, time triggers and pull consumers under /api/v1."""

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate
from ninja.params import functions as params

from sofno.core.access import get_scoped_or_404
from sofno.core.api import ERRORS, actor
from sofno.core.pagination import Pages
from sofno.core.scoping import customer_access, visible_to
from sofno.events import actions, catalog
from sofno.events.models import Consumer, CustomEventType, Event, TimeTrigger
from sofno.events.schemas import (
    ConsumerIn,
    ConsumerOut,
    ConsumerPage,
    ConsumerPatch,
    CursorIn,
    CustomTypeIn,
    CustomTypePatch,
    EventFilter,
    EventIn,
    EventOut,
    EventTypeOut,
    TriggerIn,
    TriggerOut,
    TriggerPatch,
)

router = Router(tags=["events"])


def _type_out(event_type: catalog.EventType, custom: bool) -> dict[str, Any]:
    # str(): a built-in description is a lazy translation; the schema wants text in
    # the request's language (the user's, else Accept-Language).
    return {
        "name": event_type.name,
        "description": str(event_type.description),
        "category": event_type.category,
        "custom": custom,
        "tokens": [
            {
                "name": t.name,
                "type": t.type,
                "description": str(t.description),
                "example": t.example,
            }
            for t in event_type.tokens
        ],
    }


# --- catalog ---------------------------------------------------------------------


@router.get("/event-types", response=list[EventTypeOut])
def list_event_types(request: HttpRequest) -> list[dict[str, Any]]:
    """Every event type the organization can use, built-in and custom, with tokens."""
    types = catalog.for_organization(actor(request).organization)
    return [
        _type_out(t, t.name not in catalog.BUILTIN)
        for t in sorted(types.values(), key=lambda t: t.name)
    ]


@router.post("/event-types", response={201: EventTypeOut, **ERRORS})
def create_event_type(request: HttpRequest, payload: CustomTypeIn) -> Status[dict[str, Any]]:
    """Define a custom event type (administrators)."""
    custom = actions.create_custom_type(acting_user=actor(request), fields=payload.dict())
    return Status(201, _type_out(catalog.to_event_type(custom), True))


@router.post("/event-types/catalogs/{name}", response={201: list[EventTypeOut], **ERRORS})
def install_catalog(request: HttpRequest, name: str) -> Status[list[dict[str, Any]]]:
    """Install a ready-made set of custom types (``billing``); existing names are kept."""
    created = actions.install_catalog(acting_user=actor(request), name=name)
    return Status(201, [_type_out(catalog.to_event_type(c), True) for c in created])


def _custom(request: HttpRequest, name: str) -> CustomEventType:
    who = actor(request)
    return get_scoped_or_404(CustomEventType.objects.all(), who, name=name)


@router.patch("/event-types/{name}", response={200: EventTypeOut, **ERRORS})
def update_event_type(request: HttpRequest, name: str, payload: CustomTypePatch) -> dict[str, Any]:
    custom = actions.update_custom_type(
        acting_user=actor(request),
        custom=_custom(request, name),
        fields=payload.dict(exclude_unset=True),
    )
    return _type_out(catalog.to_event_type(custom), True)


@router.delete("/event-types/{name}", response={204: None, **ERRORS})
def delete_event_type(request: HttpRequest, name: str) -> Status[None]:
    actions.delete_custom_type(acting_user=actor(request), custom=_custom(request, name))
    return Status(204, None)


# --- the log ---------------------------------------------------------------------


@router.post("/events", response={201: EventOut, 200: EventOut, **ERRORS})
def post_event(
    request: HttpRequest,
    payload: EventIn,
    idempotency_key: str | None = params.Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[Event]:
    """Record an event from an external system.

    An ``Idempotency-Key`` header makes a retry safe: the same key answers the first
    event (200) instead of recording a second one.
    """
    event, created = actions.post_event(
        acting_user=actor(request),
        type=payload.type,
        subject=payload.subject,
        data=payload.data,
        ordering_key=payload.ordering_key,
        occurred_at=payload.occurred_at,
        idempotency_key=idempotency_key,
    )
    return Status(201 if created else 200, event)


def filter_events(queryset: QuerySet[Event], filters: EventFilter) -> QuerySet[Event]:
    """Apply the log's filters (shared by the API and the page)."""
    if filters.type:
        if filters.type.endswith(".*"):
            queryset = queryset.filter(type__startswith=filters.type[:-1])
        else:
            queryset = queryset.filter(type=filters.type)
    if filters.subject:
        queryset = queryset.filter(subject=filters.subject)
    if filters.ordering_key:
        queryset = queryset.filter(ordering_key=filters.ordering_key)
    if filters.after is not None:
        queryset = queryset.filter(sequence__gt=filters.after)
    if filters.since:
        queryset = queryset.filter(occurred_at__gte=filters.since)
    if filters.until:
        queryset = queryset.filter(occurred_at__lt=filters.until)
    return queryset


@router.get("/events", response=list[EventOut])
@paginate(Pages)
@customer_access
def list_events(request: HttpRequest, filters: Query[EventFilter]) -> QuerySet[Event]:
    """The log, newest first (``after`` reads forward, oldest first)."""
    events = filter_events(visible_to(actor(request), Event.objects.all()), filters)
    return events.order_by("sequence" if filters.after is not None else "-sequence")


@router.get("/events/{event_id}", response={200: EventOut, **ERRORS})
@customer_access
def get_event(request: HttpRequest, event_id: UUID) -> Event:
    who = actor(request)
    return get_scoped_or_404(Event.objects.all(), who, public_id=event_id)


# --- time triggers ---------------------------------------------------------------


@router.get("/triggers", response=list[TriggerOut])
def list_triggers(request: HttpRequest) -> QuerySet[TimeTrigger]:
    return TimeTrigger.objects.filter(organization=actor(request).organization)


@router.post("/triggers", response={201: TriggerOut, **ERRORS})
def create_trigger(request: HttpRequest, payload: TriggerIn) -> Status[TimeTrigger]:
    """Emit ``emit_type`` an offset after a timestamp in ``source_type`` events."""
    return Status(201, actions.save_trigger(acting_user=actor(request), fields=payload.dict()))


def _trigger(request: HttpRequest, trigger_id: UUID) -> TimeTrigger:
    return get_scoped_or_404(TimeTrigger.objects.all(), actor(request), public_id=trigger_id)


@router.get("/triggers/{trigger_id}", response={200: TriggerOut, **ERRORS})
def get_trigger(request: HttpRequest, trigger_id: UUID) -> TimeTrigger:
    return _trigger(request, trigger_id)


@router.patch("/triggers/{trigger_id}", response={200: TriggerOut, **ERRORS})
def update_trigger(request: HttpRequest, trigger_id: UUID, payload: TriggerPatch) -> TimeTrigger:
    trigger = _trigger(request, trigger_id)
    fields = payload.dict(exclude_unset=True)
    return actions.save_trigger(acting_user=actor(request), fields=fields, trigger=trigger)


@router.delete("/triggers/{trigger_id}", response={204: None, **ERRORS})
def delete_trigger(request: HttpRequest, trigger_id: UUID) -> Status[None]:
    actions.delete_trigger(acting_user=actor(request), trigger=_trigger(request, trigger_id))
    return Status(204, None)


# --- pull consumers --------------------------------------------------------------


@router.get("/consumers", response=list[ConsumerOut])
def list_consumers(request: HttpRequest) -> QuerySet[Consumer]:
    return Consumer.objects.filter(organization=actor(request).organization)


@router.post("/consumers", response={201: ConsumerOut, **ERRORS})
def create_consumer(request: HttpRequest, payload: ConsumerIn) -> Status[Consumer]:
    """Register a pull consumer; it starts at the end of the log unless given a cursor."""
    return Status(201, actions.save_consumer(acting_user=actor(request), fields=payload.dict()))


def _consumer(request: HttpRequest, consumer_id: UUID) -> Consumer:
    return get_scoped_or_404(Consumer.objects.all(), actor(request), public_id=consumer_id)


@router.get("/consumers/{consumer_id}", response={200: ConsumerOut, **ERRORS})
def get_consumer(request: HttpRequest, consumer_id: UUID) -> Consumer:
    return _consumer(request, consumer_id)


@router.patch("/consumers/{consumer_id}", response={200: ConsumerOut, **ERRORS})
def update_consumer(request: HttpRequest, consumer_id: UUID, payload: ConsumerPatch) -> Consumer:
    consumer = _consumer(request, consumer_id)
    fields = payload.dict(exclude_unset=True)
    return actions.save_consumer(acting_user=actor(request), fields=fields, consumer=consumer)


@router.delete("/consumers/{consumer_id}", response={204: None, **ERRORS})
def delete_consumer(request: HttpRequest, consumer_id: UUID) -> Status[None]:
    actions.delete_consumer(acting_user=actor(request), consumer=_consumer(request, consumer_id))
    return Status(204, None)


@router.get("/consumers/{consumer_id}/events", response={200: ConsumerPage, **ERRORS})
def consumer_events(
    request: HttpRequest,
    consumer_id: UUID,
    after: int | None = params.Query(None, ge=0, description="cursor; default: the committed one"),
    limit: int = params.Query(100, ge=1, le=1000),
    wait: float = params.Query(
        0, ge=0, le=actions.MAX_WAIT_SECONDS, description="long-poll seconds"
    ),
) -> dict[str, Any]:
    """The consumer's next events in log order; waits up to ``wait`` s when there are none."""
    consumer = _consumer(request, consumer_id)
    start = consumer.cursor if after is None else after
    events, next_cursor = actions.read_consumer(consumer, start, limit, wait)
    return {"events": events, "next_cursor": str(next_cursor)}


@router.post("/consumers/{consumer_id}/cursor", response={200: ConsumerOut, **ERRORS})
def commit_cursor(request: HttpRequest, consumer_id: UUID, payload: CursorIn) -> Consumer:
    """Record how far the consumer has read."""
    consumer = _consumer(request, consumer_id)
    return actions.commit_cursor(
        acting_user=actor(request), consumer=consumer, cursor=payload.cursor
    )
