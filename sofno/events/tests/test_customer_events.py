"""Customer users read only the events about their own customer; staff areas stay closed."""

from __future__ import annotations

import importlib
import uuid

import pytest
from django.apps import apps
from django.test import Client

from sofno.core.access import Actor
from sofno.core.models import Role
from sofno.core.testing import ApiClient, make_user
from sofno.events.emit import NewEvent, emit, emit_many
from sofno.events.models import Consumer, Event
from sofno.events.scope import customer_of


@pytest.fixture
def shops(cast):
    """Carla, customer user of "Mine"; "Theirs" is another customer with a device."""
    from sofno.directory.models import Customer, CustomerUser
    from sofno.monitoring.actions import create_device

    owner = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    mine = Customer.objects.create(organization=cast.org, name="Mine")
    theirs = Customer.objects.create(organization=cast.org, name="Theirs Secret Name")
    for customer in (mine, theirs):
        create_device(
            acting_user=owner,
            customer=customer,
            fields={"name": f"{customer.name} pc", "os": "linux"},
        )
    carla = make_user("carla", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=carla, customer=mine)
    return carla, mine, theirs


def test_it_records_the_customer_an_event_is_about(cast):
    someone = uuid.uuid4()
    assert customer_of(f"customer:{someone}", {}) == someone
    assert customer_of("device:x", {"customer_id": str(someone)}) == someone
    assert customer_of("ticket:x", {"customer": {"id": str(someone)}}) == someone
    # Staff business stays staff-only even when it names a customer.
    assert customer_of("call:x", {"customer_id": str(someone)}) is None
    assert customer_of("webhook:x", {"customer": {"id": str(someone)}}) is None
    # What a time trigger fires names the trigger: staff configuration.
    assert customer_of("ticket:x", {"customer_id": str(someone)}, "trigger") is None
    for junk in ({}, {"customer_id": "nope"}, {"customer": "x"}, {"customer_id": 5}, None, []):
        assert customer_of("invoice:1", junk) is None
    one = emit(cast.org, "device.created", "device:a", {"customer_id": str(someone)})
    many = emit_many(
        cast.org,
        [NewEvent("customer.updated", f"customer:{someone}"), NewEvent("oncall.call.ringing")],
    )
    stored = {e.pk: e.customer_ref for e in Event.objects.filter(organization=cast.org)}
    assert stored[one.pk] == someone and stored[many[0].pk] == someone
    assert stored[many[1].pk] is None


def test_it_fills_the_customer_of_events_recorded_before(cast):
    someone = uuid.uuid4()
    event = emit(cast.org, "device.created", "device:a", {"customer_id": str(someone)})
    Event.objects.filter(pk=event.pk).update(customer_ref=None)
    migration = importlib.import_module("sofno.events.migrations.0003_scope_event_customer")
    migration.fill_customer(apps, None)
    assert Event.objects.get(pk=event.pk).customer_ref == someone


def test_it_shows_a_customer_user_only_their_events_in_the_api(cast, shops):
    carla, mine, theirs = shops
    api = ApiClient.as_user(carla)
    listed = api.get("/events?limit=500").json()["items"]
    assert listed and {e["subject"] for e in listed} <= {
        f"customer:{mine.public_id}",
        *(f"device:{d.public_id}" for d in mine.devices.all()),
    }
    assert "Theirs Secret Name" not in str(listed)
    foreign = Event.objects.filter(customer_ref=theirs.public_id)
    assert foreign.exists()
    for event in foreign:
        assert api.get(f"/events/{event.public_id}").status_code == 404
    aimed = api.get(f"/events?subject=customer:{theirs.public_id}").json()
    assert aimed["items"] == []
    own = Event.objects.filter(customer_ref=mine.public_id).first()
    assert api.get(f"/events/{own.public_id}").json()["id"] == str(own.public_id)
    staff = ApiClient(cast.key)
    assert len(staff.get("/events?limit=500").json()["items"]) > len(listed)


def test_it_closes_consumers_and_routing_to_customer_users(cast, shops):
    carla, mine, _ = shops
    consumer = Consumer.objects.create(organization=cast.org, name="Warehouse")
    api = ApiClient.as_user(carla)
    own = Event.objects.filter(customer_ref=mine.public_id).first()
    for path in (
        f"/consumers/{consumer.public_id}/events",
        f"/consumers/{consumer.public_id}",
        "/consumers",
        f"/events/{own.public_id}/routing",
        "/event-types",
        "/triggers",
    ):
        response = api.get(path)
        assert response.status_code == 403, path
        assert response.json()["code"] == "staff_only"
        assert "Warehouse" not in response.content.decode()


def test_it_shows_a_customer_user_only_their_events_on_the_pages(cast, shops):
    carla, mine, theirs = shops
    client = Client()
    client.force_login(carla)
    listing = client.get("/events/")
    assert listing.status_code == 200
    assert str(mine.public_id) in listing.text
    assert str(theirs.public_id) not in listing.text
    foreign = Event.objects.filter(customer_ref=theirs.public_id).first()
    assert client.get(f"/events/{foreign.public_id}/").status_code == 404
    own = Event.objects.filter(customer_ref=mine.public_id).first()
    assert client.get(f"/events/{own.public_id}/").status_code == 200


STAFF_API = (
    "/webhooks",
    "/maintenance",
    "/calls",
    "/oncall/settings",
    "/oncall/people",
    "/oncall/timetables",
    "/oncall/now",
    "/command-templates",
    "/monitoring/defaults",
    "/pos-software",
    "/notification-rules",
    "/notification-templates",
    "/smtp-profiles",
    "/escalation-policies",
    "/members",
    "/api-keys",
    "/contact-types",
    "/ticket-statuses",
)
STAFF_PAGES = (
    "/webhooks/",
    "/oncall/",
    "/oncall/settings/",
    "/oncall/yaml/",
    "/oncall/calls/",
    "/oncall/people/",
    "/oncall/queue/",
    "/oncall/screen/",
    "/devices/settings/",
    "/notifications/rules/",
    "/notifications/templates/",
    "/tickets/settings/",
)


def test_it_closes_every_staff_area_to_customer_users(cast, shops):
    carla, _, _ = shops
    api = ApiClient.as_user(carla)
    for path in STAFF_API:
        response = api.get(path)
        assert response.status_code == 403, path
        assert response.json()["code"] == "staff_only", path
    pages = Client()
    pages.force_login(carla)
    for path in STAFF_PAGES:
        assert pages.get(path).status_code == 403, path
    # Staff keep them.
    assert ApiClient.as_user(cast.viewer).get("/webhooks").status_code == 200
    staff_pages = Client()
    staff_pages.force_login(cast.owner)
    assert staff_pages.get("/oncall/settings/").status_code == 200
