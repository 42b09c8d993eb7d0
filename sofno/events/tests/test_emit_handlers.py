"""``on_emitted``: handlers run in the emitting transaction, for their types only."""

from __future__ import annotations

import pytest
from django.db import transaction

from sofno.events import emit as emitting
from sofno.events.emit import NewEvent, emit, emit_many, on_emitted
from sofno.events.models import Event


@pytest.fixture
def seen(monkeypatch):
    """Events a test handler received, one list per call; the registry is restored."""
    monkeypatch.setattr(emitting, "_HANDLERS", list(emitting._HANDLERS))
    calls: list[list[str]] = []
    on_emitted(
        ["invoice.paid", "invoice.sent"], lambda events: calls.append([e.type for e in events])
    )
    return calls


def test_it_hands_a_handler_only_the_events_of_its_types(cast, seen):
    emit_many(
        cast.org,
        [NewEvent("invoice.sent"), NewEvent("invoice.overdue"), NewEvent("invoice.paid")],
    )
    emit(cast.org, "invoice.overdue")
    assert seen == [["invoice.sent", "invoice.paid"]]


def test_a_failing_handler_rolls_the_change_back(cast, seen):
    def refuse(events):
        raise RuntimeError("no")

    on_emitted(["invoice.paid"], refuse)
    with pytest.raises(RuntimeError), transaction.atomic():
        emit(cast.org, "invoice.paid")
    assert not Event.objects.filter(organization=cast.org).exists()


def test_a_handler_sees_its_events_stored(cast, seen):
    stored = []
    on_emitted(
        ["invoice.sent"], lambda events: stored.extend(Event.objects.filter(pk=events[0].pk))
    )
    emit(cast.org, "invoice.sent", "invoice:1")
    assert [e.subject for e in stored] == ["invoice:1"]


def test_an_event_posted_from_outside_reaches_no_handler(cast, seen):
    emit(cast.org, "invoice.paid", source="api:abc123")
    assert seen == []
