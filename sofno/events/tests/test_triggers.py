import datetime as dt

import pytest
import time_machine
from django.core.management import call_command

from sofno.core.access import Actor
from sofno.core.models import Role
from sofno.directory import actions as directory
from sofno.directory.models import Contact, ContactType, Customer
from sofno.events import actions, retention, triggers
from sofno.events.emit import emit
from sofno.events.models import DueStatus, Event, TriggerDue

UTC = dt.UTC


@pytest.fixture
def owner(cast):
    return Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)


@pytest.fixture
def reminder(owner):
    actions.install_catalog(acting_user=owner, name="billing")
    return actions.save_trigger(
        acting_user=owner,
        fields={
            "name": "Payment reminder",
            "source_type": "invoice.delivered",
            "timestamp_token": "delivered_at",
            "offset_minutes": 3 * 24 * 60,
            "at_local_time": dt.time(9, 0),
            "emit_type": "invoice.overdue",
        },
    )


def types(org):
    return list(
        Event.objects.filter(organization=org).order_by("sequence").values_list("type", flat=True)
    )


def test_it_emits_customer_and_contact_changes_in_the_same_transaction(cast, owner):
    customer = directory.create_customer(acting_user=owner, fields={"name": "Trattoria"})
    directory.update_customer(acting_user=owner, customer=customer, fields={"city": "Roma"})
    directory.update_customer(acting_user=owner, customer=customer, fields={"city": "Roma"})
    billing = ContactType.objects.get(organization=cast.org, slug="billing")
    contact = Contact.objects.create(
        organization=cast.org, customer=customer, name="Maria", contact_type=billing
    )
    contact.phone = "+390612345678"
    contact.save()
    directory.delete_customer(acting_user=owner, customer=customer)
    assert types(cast.org) == [
        "customer.created",
        "customer.updated",
        "contact.created",
        "contact.updated",
        "contact.deleted",
        "customer.deleted",
    ]
    updated = Event.objects.get(type="customer.updated")
    assert updated.payload["changed"] == ["city"]
    assert updated.payload["customer"]["name"] == "Trattoria"
    contact_event = Event.objects.get(type="contact.updated")
    assert contact_event.payload["contact"]["contact_type"] == "billing"
    assert contact_event.ordering_key == f"customer:{customer.public_id}"
    assert contact_event.subject == f"contact:{contact.public_id}"


def test_it_rolls_the_event_back_with_the_change(cast, owner):
    with pytest.raises(RuntimeError), __import__("django").db.transaction.atomic():
        Customer.objects.create(organization=cast.org, name="Ghost")
        raise RuntimeError
    assert types(cast.org) == []


def test_it_schedules_three_days_after_delivery_at_nine_customer_time(cast, owner, reminder):
    customer = Customer.objects.create(
        organization=cast.org, name="NY Deli", timezone="America/New_York"
    )
    event = emit(
        cast.org,
        "invoice.delivered",
        "invoice:1",
        {"delivered_at": "2026-11-02T20:15:00Z", "customer": {"id": str(customer.public_id)}},
    )
    due = TriggerDue.objects.get(source_event=event)
    # 20:15 UTC on 2 Nov is 15:15 in New York; three days later is 5 Nov, at 09:00 there.
    assert due.due_at == dt.datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
    assert due.timezone == "America/New_York"
    assert triggers.fire_due(now=dt.datetime(2026, 11, 5, 13, 59, tzinfo=UTC)) == 0
    assert triggers.fire_due(now=dt.datetime(2026, 11, 5, 14, 0, tzinfo=UTC)) == 1
    assert triggers.fire_due(now=dt.datetime(2026, 11, 6, tzinfo=UTC)) == 0  # fired once
    fired = Event.objects.get(type="invoice.overdue")
    assert fired.source == "trigger"
    assert fired.payload["trigger"]["source_event"] == str(event.public_id)
    assert fired.payload["delivered_at"] == "2026-11-02T20:15:00Z"
    assert fired.ordering_key == event.ordering_key
    due.refresh_from_db()
    assert due.status == DueStatus.FIRED and due.fired_event == fired


def test_it_falls_back_to_the_organization_timezone_and_says_so(cast, owner, reminder):
    event = emit(cast.org, "invoice.delivered", "i", {"delivered_at": "2026-03-26T10:00:00Z"})
    due = TriggerDue.objects.get(source_event=event)
    # Rome moves to summer time on 29 March: 09:00 local is then 07:00 UTC.
    assert due.due_at == dt.datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert due.timezone == "Europe/Rome" and "organization" in due.note


def test_it_skips_an_event_without_the_timestamp_and_records_why(cast, owner, reminder):
    event = emit(cast.org, "invoice.delivered", "i", {"delivered_at": "yesterday"})
    due = TriggerDue.objects.get(source_event=event)
    assert due.status == DueStatus.SKIPPED and "delivered_at" in due.note
    assert triggers.fire_due(now=dt.datetime(2100, 1, 1, tzinfo=UTC)) == 0


def test_it_uses_occurred_at_without_a_token_and_a_plain_offset(cast, owner, reminder):
    actions.save_trigger(
        acting_user=owner,
        fields={
            "name": "Dormant follow-up",
            "source_type": "sim.dormant",
            "offset_minutes": 90,
            "emit_type": "account.status_changed",
        },
    )
    at = dt.datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    event = emit(cast.org, "sim.dormant", "sim:1", {}, occurred_at=at)
    assert TriggerDue.objects.get(source_event=event).due_at == at + dt.timedelta(minutes=90)


def test_it_runs_the_trigger_loop_on_time(cast, owner, reminder):
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=UTC), tick=False):
        emit(cast.org, "invoice.delivered", "i", {"delivered_at": "2026-11-02T08:15:00Z"})
    with time_machine.travel(dt.datetime(2026, 11, 5, 8, 1, tzinfo=UTC), tick=False):
        assert triggers.fire_due() == 1  # 09:00 in Rome is 08:00 UTC in November


def test_it_validates_triggers_through_the_api(cast, api_client, reminder):
    client = api_client(cast.key)
    body = {"name": "x", "source_type": "invoice.posted", "emit_type": "invoice.posted"}
    assert client.post("/triggers", body).json()["errors"][0]["field"] == "emit_type"
    body["emit_type"] = "nope.nope"
    assert client.post("/triggers", body).json()["errors"][0]["rule"] == "unknown"
    body.update(emit_type="invoice.overdue", timezone="Mars/Base")
    assert client.post("/triggers", body).json()["errors"][0]["field"] == "timezone"
    body.update(timezone="Asia/Tokyo", timezone_source="fixed", at_local_time="09:30")
    created = client.post("/triggers", body)
    assert created.status_code == 201
    path = f"/triggers/{created.json()['id']}"
    assert client.patch(path, {"enabled": False}).json()["enabled"] is False
    assert api_client(cast.readonly_key).get("/triggers").status_code == 200
    assert api_client(cast.readonly_key).delete(path).status_code == 403
    assert api_client(cast.other_key).get(path).status_code == 404
    assert client.put(path, {}).status_code == 405
    assert client.delete(path).status_code == 204


def test_it_prunes_events_older_than_the_retention(cast, settings):
    settings.EVENT_RETENTION_DAYS = 30
    with time_machine.travel(dt.datetime(2026, 1, 1, tzinfo=UTC), tick=False):
        emit(cast.org, "customer.created", "old")
    emit(cast.org, "customer.created", "new")
    assert retention.prune() == 1
    assert list(Event.objects.values_list("subject", flat=True)) == ["new"]
    settings.EVENT_RETENTION_DAYS = 0
    assert retention.prune() == 0  # zero keeps everything
    call_command("prune_events", "--days", "1")
    assert Event.objects.count() == 1
