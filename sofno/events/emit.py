"""``emit``: the one way anything records a business event.

The Event rows are written in the caller's transaction (an outbox): if the change
rolls back, so does the event. Handlers registered with :func:`on_emitted` run in
that same transaction (a lower app reacting to an upper app's change); listeners
registered with :func:`on_committed` are told after commit, which is how dispatch
wakes up.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from sofno.core.models import Organization
from sofno.events import triggers
from sofno.events.models import Event, EventCounter
from sofno.events.scope import customer_of

_COMMIT_LISTENERS: list[Callable[[list[Event]], None]] = []
_HANDLERS: list[tuple[frozenset[str], Callable[[list[Event]], None]]] = []


@dataclass
class NewEvent:
    """One event to record, for :func:`emit_many`."""

    type: str
    subject: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    ordering_key: str = ""
    occurred_at: dt.datetime | None = None


def on_committed(listener: Callable[[list[Event]], None]) -> None:
    """Call ``listener(events)`` after each transaction that emitted ``events`` commits."""
    if listener not in _COMMIT_LISTENERS:
        _COMMIT_LISTENERS.append(listener)


def on_emitted(types: Iterable[str], handler: Callable[[list[Event]], None]) -> None:
    """Call ``handler(events)`` in the emitting transaction with the events just recorded
    whose type is one of ``types`` (exact names).

    - For work a lower app owes an upper app's change, done by the time the change
      commits (notify writing the rules that tickets' notification settings describe).
    - An error in the handler rolls the change back with its events.
    - Only events SOFNO records itself (source ``sofno``): an external system posting
      a built-in type through the API changes nothing of SOFNO's own data.
    - Registered from the reacting app's ``AppConfig.ready``.
    """
    entry = (frozenset(types), handler)
    if entry not in _HANDLERS:
        _HANDLERS.append(entry)


def emit(
    organization: Organization,
    type: str,
    subject: str = "",
    data: dict[str, Any] | None = None,
    ordering_key: str = "",
    *,
    occurred_at: dt.datetime | None = None,
    source: str = "sofno",
    idempotency_key: str | None = None,
) -> Event:
    """Record one event in the caller's transaction and return it.

    - ``subject`` names what the event is about (``device:<public id>``).
    - ``ordering_key`` groups events that subscribers in ordered mode receive in
      sequence (defaults to the subject).
    """
    new = NewEvent(type, subject, data or {}, ordering_key, occurred_at)
    (event,) = emit_many(organization, [new], source=source, idempotency_key=idempotency_key)
    return event


@transaction.atomic
def emit_many(
    organization: Organization,
    events: Iterable[NewEvent],
    *,
    source: str = "sofno",
    idempotency_key: str | None = None,
) -> list[Event]:
    """Record several events with consecutive sequence numbers in one write.

    The sequence numbers come from the organization's counter row, whose lock is held
    until the transaction commits (so sequence order is commit order and readers
    never see a gap fill in later). Everything that can happen before taking that
    lock does: the rows and their JSON are built first, and on PostgreSQL the
    counter is bumped by the very statement that inserts the events, so two
    transactions of one organization (two sweeper workers) overlap in everything
    but that statement and their commit.
    """
    batch = list(events)
    if not batch:
        return []
    now = timezone.now()
    key = idempotency_key if len(batch) == 1 else None
    # Positional values in the fields' order: Django's fast way to build a model
    # instance (keyword arguments cost several times more, and a mass outage builds
    # tens of thousands of these). The stubs' plugin checks positional arguments
    # against the wrong fields, hence the ignore.
    rows = [
        Event(  # type: ignore[misc]
            None,
            uuid.uuid4(),
            organization.pk,
            0,
            new.type,
            new.subject,
            new.data,
            new.ordering_key or new.subject,
            new.occurred_at or now,
            now,
            source,
            key,
            customer_of(new.subject, new.data, source),
        )
        for new in batch
    ]
    cache = Event.organization.field.set_cached_value
    for row in rows:
        cache(row, organization)  # ``event.organization`` costs no query
    if len(rows) > 1 and connection.vendor == "postgresql":
        _insert_postgres(organization.pk, rows)
    else:
        last = _allocate(organization.pk, len(rows))
        for index, row in enumerate(rows):
            row.sequence = last - len(rows) + 1 + index
        Event.objects.bulk_create(rows)
    # Time-relative triggers are scheduled in the same transaction, so an event
    # that commits always has its due rows.
    triggers.schedule(rows)
    if _HANDLERS and source == "sofno":
        _handle(rows)
    if _COMMIT_LISTENERS:
        transaction.on_commit(lambda: _notify(rows))
    return rows


_FIELDS = [f for f in Event._meta.concrete_fields if not f.primary_key]
# The positional order ``emit_many`` builds rows in; a new field must be added there.
assert [f.attname for f in Event._meta.concrete_fields] == [
    "id",
    "public_id",
    "organization_id",
    "sequence",
    "type",
    "subject",
    "payload",
    "ordering_key",
    "occurred_at",
    "recorded_at",
    "source",
    "idempotency_key",
    "customer_ref",
], "Event's fields changed: update emit_many's positional row"


def _insert_postgres(organization_id: int, rows: list[Event]) -> None:
    """Allocate the sequence numbers and insert many events in ONE statement, the rows
    travelling as one JSON value expanded by ``json_populate_recordset``.

    ``WITH c AS (UPDATE counter ... RETURNING last_sequence) INSERT ... SELECT``: the
    counter's row lock is taken only once the rows are built and quoted, and each
    row's ``sequence`` in the JSON is its position, offset by the allocation in SQL.
    Same rows and ids as ``bulk_create`` with client-side numbering.
    """
    count = len(rows)
    records = []
    for position, row in enumerate(rows, start=1):
        record = {}
        for f in _FIELDS:
            value = getattr(row, f.attname)
            if isinstance(value, dt.datetime):
                value = value.isoformat()
            elif isinstance(value, uuid.UUID):
                value = str(value)
            record[f.column] = value
        record["sequence"] = position
        records.append(record)
    quote = connection.ops.quote_name
    table = quote(Event._meta.db_table)
    counter = quote(EventCounter._meta.db_table)
    columns = [quote(f.column) for f in _FIELDS]  # type: ignore[arg-type]  # concrete: str
    names = ", ".join(columns)
    picked = ", ".join(
        f"c.last_sequence - %s + r.{c}" if c == quote("sequence") else f"r.{c}" for c in columns
    )
    # Identifiers come from model metadata; every value is a parameter.
    # The counter row is created by the same statement when missing (an upsert): a
    # remembered "it exists" could outlive a rolled-back creation and lose events.
    sql = (
        f"WITH c AS (INSERT INTO {counter} (organization_id, last_sequence) "  # noqa: S608
        f"VALUES (%s, %s) ON CONFLICT (organization_id) DO UPDATE "
        f"SET last_sequence = {counter}.last_sequence + EXCLUDED.last_sequence "
        f"RETURNING last_sequence) "
        f"INSERT INTO {table} ({names}) SELECT {picked} "
        f"FROM c, json_populate_recordset(NULL::{table}, %s) r RETURNING id, sequence"
    )
    payload = json.dumps(records)
    with connection.cursor() as cursor:
        cursor.execute(sql, [organization_id, count, count, payload])
        found = cursor.fetchall()
    first = min(sequence for _pk, sequence in found)
    ids = {sequence - first: pk for pk, sequence in found}
    for position, row in enumerate(rows):
        row.pk = ids[position]
        row.sequence = first + position
        row._state.adding = False
        row._state.db = connection.alias


def _allocate(organization_id: int, count: int) -> int:
    """Reserve ``count`` sequence numbers; returns the last one."""
    updated = EventCounter.objects.filter(organization_id=organization_id).update(
        last_sequence=F("last_sequence") + count
    )
    if not updated:
        EventCounter.objects.get_or_create(organization_id=organization_id)
        EventCounter.objects.filter(organization_id=organization_id).update(
            last_sequence=F("last_sequence") + count
        )
    return EventCounter.objects.values_list("last_sequence", flat=True).get(
        organization_id=organization_id
    )


def _handle(rows: list[Event]) -> None:
    emitted = {row.type for row in rows}
    for types, handler in _HANDLERS:
        if types & emitted:
            handler([row for row in rows if row.type in types])


def _notify(events: list[Event]) -> None:
    for listener in _COMMIT_LISTENERS:
        listener(events)
