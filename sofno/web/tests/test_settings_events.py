"""Custom event types, pull consumers and time triggers: list, create, edit, delete."""

import pytest
from django.test import Client

from sofno.core.access import Actor
from sofno.core.models import Role
from sofno.core.testing import make_user
from sofno.directory.models import Customer, CustomerUser
from sofno.events import actions
from sofno.events.emit import emit
from sofno.events.models import Consumer, CustomEventType, TimeTrigger


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def owner_of(cast, org=None) -> Actor:
    user = cast.owner if org is None else cast.outsider
    return Actor(organization=org or cast.org, role=Role.OWNER, user=user)


@pytest.fixture
def invoice_type(cast) -> CustomEventType:
    return actions.create_custom_type(
        acting_user=owner_of(cast),
        fields={"name": "invoice.delivered", "tokens": [{"name": "due_at", "type": "datetime"}]},
    )


@pytest.fixture
def consumer(cast) -> Consumer:
    return actions.save_consumer(acting_user=owner_of(cast), fields={"name": "ERP reader"})


@pytest.fixture
def trigger(cast, invoice_type) -> TimeTrigger:
    actions.create_custom_type(acting_user=owner_of(cast), fields={"name": "invoice.reminder"})
    return actions.save_trigger(
        acting_user=owner_of(cast),
        fields={
            "name": "Remind in three days",
            "source_type": "invoice.delivered",
            "emit_type": "invoice.reminder",
            "offset_minutes": 4320,
        },
    )


# One row per area: its list URL, and a fixture name for one of its records.
AREAS = [
    ("/settings/event-types/", "invoice_type"),
    ("/settings/consumers/", "consumer"),
    ("/settings/triggers/", "trigger"),
]


@pytest.mark.parametrize(("base", "fixture"), AREAS)
def test_staff_read_the_lists_and_only_admins_change(cast, request, base, fixture):
    obj = request.getfixturevalue(fixture)
    viewer = login(cast.viewer)
    html = viewer.get(base).content.decode()
    assert obj.name in html and f"{base}new/" not in html and "Delete" not in html
    for url in (f"{base}new/", f"{base}{obj.public_id}/"):
        assert viewer.get(url).status_code == 403, url
        assert viewer.post(url, {"name": "x"}).status_code == 403, url
    assert viewer.post(f"{base}{obj.public_id}/delete/").status_code == 403
    assert login(cast.agent).post(f"{base}{obj.public_id}/delete/").status_code == 403
    assert type(obj).objects.filter(pk=obj.pk, name=obj.name).exists()
    assert f"{base}new/" in login(cast.owner).get(base).content.decode()


@pytest.mark.parametrize(("base", "fixture"), AREAS)
def test_it_hides_another_organizations_records(cast, request, base, fixture):
    obj = request.getfixturevalue(fixture)
    outsider = login(cast.outsider)
    assert obj.name not in outsider.get(base).content.decode()
    assert outsider.get(f"{base}{obj.public_id}/").status_code == 404
    assert outsider.post(f"{base}{obj.public_id}/", {"name": "x"}).status_code == 404
    assert outsider.post(f"{base}{obj.public_id}/delete/").status_code == 404
    assert type(obj).objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize(("base", "fixture"), AREAS)
def test_it_denies_customer_users(cast, request, base, fixture):
    obj = request.getfixturevalue(fixture)
    customer = Customer.objects.create(organization=cast.org, name="Pizzeria Roma")
    user = make_user("cora", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=user, customer=customer)
    client = login(user)
    for url in (base, f"{base}new/", f"{base}{obj.public_id}/"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{base}{obj.public_id}/delete/").status_code == 403


@pytest.mark.parametrize(("base", "fixture"), AREAS)
def test_it_refuses_the_wrong_method(cast, request, base, fixture):
    obj = request.getfixturevalue(fixture)
    client = login(cast.owner)
    assert client.post(base).status_code == 405
    assert client.get(f"{base}{obj.public_id}/delete/").status_code == 405
    assert client.put(f"{base}{obj.public_id}/").status_code == 405
    assert type(obj).objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize(("base", "fixture"), AREAS)
def test_it_deletes(cast, request, base, fixture):
    obj = request.getfixturevalue(fixture)
    response = login(cast.owner).post(f"{base}{obj.public_id}/delete/")
    assert response.status_code == 302 and response["Location"] == base
    assert not type(obj).objects.filter(pk=obj.pk).exists()


def test_it_creates_and_edits_a_custom_type_with_tokens(cast):
    client = login(cast.owner)
    assert client.get("/settings/event-types/new/").status_code == 200
    response = client.post(
        "/settings/event-types/new/",
        {
            "name": "invoice.overdue",
            "description": "An invoice is late",
            "category": "billing",
            "tokens": "invoice.number | string | The number | 2026-0001\namount | number",
        },
    )
    assert response.status_code == 302
    custom = CustomEventType.objects.get(organization=cast.org, name="invoice.overdue")
    assert custom.tokens == [
        {
            "name": "invoice.number",
            "type": "string",
            "description": "The number",
            "example": "2026-0001",
        },
        {"name": "amount", "type": "number", "description": "", "example": None},
    ]
    listing = client.get("/settings/event-types/").content.decode()
    assert "invoice.overdue" in listing and "invoice.number" in listing
    edit_url = f"/settings/event-types/{custom.public_id}/"
    form = client.get(edit_url).content.decode()
    assert "invoice.number | string | The number | 2026-0001" in form
    changes = {"name": "renamed.type", "description": "Late", "tokens": "days | integer"}
    client.post(edit_url, changes)
    custom.refresh_from_db()
    assert custom.name == "invoice.overdue" and custom.description == "Late"  # the name stays
    assert custom.tokens == [
        {"name": "days", "type": "integer", "description": "", "example": None}
    ]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "Invoice Overdue"}, "name"),
        ({"name": "device.offline"}, "name"),  # a built-in type
        ({"name": "invoice.delivered"}, "name"),  # exists already
        ({"name": "invoice.late", "tokens": "bad name! | string"}, "tokens"),
        ({"name": "invoice.late", "tokens": "amount | money"}, "tokens"),
    ],
)
def test_it_names_the_field_a_custom_type_breaks(cast, invoice_type, fields, field):
    response = login(cast.owner).post("/settings/event-types/new/", fields)
    assert response.status_code == 200
    assert f'data-field="{field}"' in response.content.decode()
    assert CustomEventType.objects.filter(organization=cast.org).count() == 1


def test_it_creates_and_edits_a_consumer(cast, invoice_type):
    emit(cast.org, "customer.created", subject="customer:x", data={})
    client = login(cast.owner)
    assert client.get("/settings/consumers/new/").status_code == 200
    fields = {"name": "Billing", "event_types": "invoice.*\ncustomer.created"}
    response = client.post("/settings/consumers/new/", fields)
    assert response.status_code == 302
    consumer = Consumer.objects.get(organization=cast.org, name="Billing")
    assert consumer.event_types == ["invoice.*", "customer.created"]
    assert consumer.cursor >= 1  # starts at the newest event
    client.post(f"/settings/consumers/{consumer.public_id}/", {"name": "Billing", "cursor": "0"})
    consumer.refresh_from_db()
    assert consumer.cursor == 0 and consumer.event_types == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x", "event_types": "no.such.type"}, "event_types"),
        ({"name": "x", "event_types": "Not A Type"}, "event_types"),
        ({"name": "x", "cursor": "-1"}, "cursor"),
        ({"name": "x", "cursor": "lots"}, "cursor"),
    ],
)
def test_it_names_the_field_a_consumer_breaks(cast, fields, field):
    response = login(cast.owner).post("/settings/consumers/new/", fields)
    assert response.status_code == 200
    assert f'data-field="{field}"' in response.content.decode()
    assert not Consumer.objects.exists()


def test_it_creates_and_edits_a_trigger(cast, invoice_type):
    actions.create_custom_type(acting_user=owner_of(cast), fields={"name": "invoice.reminder"})
    client = login(cast.owner)
    form = client.get("/settings/triggers/new/").content.decode()
    assert "invoice.delivered" in form and "device.offline" in form
    response = client.post(
        "/settings/triggers/new/",
        {
            "name": "Reminder",
            "source_type": "invoice.delivered",
            "timestamp_token": "due_at",
            "offset_minutes": "60",
            "at_local_time": "09:00",
            "timezone_source": "fixed",
            "timezone": "Europe/Rome",
            "emit_type": "invoice.reminder",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    trigger = TimeTrigger.objects.get(organization=cast.org)
    assert (trigger.timezone, trigger.offset_minutes, str(trigger.at_local_time)) == (
        "Europe/Rome",
        60,
        "09:00:00",
    )
    listing = client.get("/settings/triggers/").content.decode()
    assert "Reminder" in listing and "A fixed timezone" in listing and ">fixed<" not in listing
    assert "1 hour later" in listing
    url = f"/settings/triggers/{trigger.public_id}/"
    assert 'value="09:00"' in client.get(url).content.decode()
    client.post(
        url,
        {
            "name": "Reminder",
            "source_type": "invoice.delivered",
            "offset_minutes": "0",
            "timezone_source": "customer",
            "emit_type": "invoice.reminder",
        },
    )
    trigger.refresh_from_db()
    assert not trigger.enabled and trigger.timezone == "" and trigger.at_local_time is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"source_type": "invoice.delivered", "emit_type": "invoice.delivered"}, "emit_type"),
        ({"source_type": "no.such", "emit_type": "invoice.delivered"}, "source_type"),
        ({"timezone_source": "fixed", "timezone": ""}, "timezone"),
        ({"timezone_source": "fixed", "timezone": "Mars/Base"}, "timezone"),
        ({"offset_minutes": "soon"}, "offset_minutes"),
        ({"at_local_time": "25:99"}, "at_local_time"),
        ({"timezone_source": "moon"}, "timezone_source"),
    ],
)
def test_it_names_the_field_a_trigger_breaks(cast, invoice_type, fields, field):
    good = {
        "name": "Reminder",
        "source_type": "invoice.delivered",
        "offset_minutes": "0",
        "timezone_source": "customer",
        "emit_type": "device.offline",
    }
    response = login(cast.owner).post("/settings/triggers/new/", {**good, **fields})
    assert response.status_code == 200
    assert f'data-field="{field}"' in response.content.decode()
    assert not TimeTrigger.objects.exists()


def test_it_installs_a_ready_made_set_once(cast, invoice_type):
    client = login(cast.owner)
    assert "Billing and subscriptions" in client.get("/settings/event-types/").content.decode()
    first = client.post("/settings/event-types/install/", {"catalog": "billing"}, follow=True)
    added = CustomEventType.objects.filter(organization=cast.org).count() - 1
    assert added > 5 and f"{added} event types added" in first.content.decode()
    again = client.post("/settings/event-types/install/", {"catalog": "billing"}, follow=True)
    assert "0 event types added" in again.content.decode()
    odd = client.post("/settings/event-types/install/", {"catalog": "nope"}, follow=True)
    assert "Choose one of the ready-made sets" in odd.content.decode()
    assert CustomEventType.objects.filter(organization=cast.org).count() == added + 1
    assert (
        login(cast.viewer)
        .post("/settings/event-types/install/", {"catalog": "billing"})
        .status_code
        == 403
    )
    assert client.get("/settings/event-types/install/").status_code == 405
    assert not CustomEventType.objects.filter(organization=cast.other_org).exists()


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (0, "at once"),
        (1, "1 minute later"),
        (4410, "3 days 1 hour 30 minutes later"),
        (-120, "2 hours before"),
    ],
)
def test_it_says_a_trigger_offset_in_words(minutes, words):
    from sofno.web.views.settings_events import offset_in_words

    assert offset_in_words(minutes) == words


@pytest.mark.parametrize(
    "url",
    [
        "/settings/event-types/new/",
        "/settings/consumers/new/",
        "/settings/triggers/new/",
        "/settings/api-keys/new/",
        "/settings/members/invite/",
    ],
)
def test_an_empty_post_names_the_required_fields(cast, url):
    response = login(cast.owner).post(url, {})
    html = response.content.decode()
    assert response.status_code == 200 and "This field is required." in html
    assert 'data-field="name"' in html or 'data-field="email"' in html
