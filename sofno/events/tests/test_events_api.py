import datetime as dt

import pytest

from sofno.core.testing import field_errors
from sofno.events.emit import NewEvent, emit, emit_many
from sofno.events.models import CustomEventType, Event


@pytest.fixture
def billing(cast, api_client):
    response = api_client(cast.key).post("/event-types/catalogs/billing")
    assert response.status_code == 201, response.content
    return response.json()


def test_it_lists_event_types_with_their_tokens(cast, api_client):
    types = {t["name"]: t for t in api_client(cast.readonly_key).get("/event-types").json()}
    created = types["customer.created"]
    assert created["custom"] is False and created["category"] == "directory"
    assert {"name": "customer.name", "type": "string"}.items() <= {
        k: v for k, v in created["tokens"][2].items() if k in ("name", "type")
    }.items()
    assert "webhook.endpoint.disabled" in types


def test_it_installs_the_billing_catalog_as_custom_types(cast, api_client, billing):
    names = {t["name"] for t in billing}
    assert {
        "service.state_changed",
        "account.status_changed",
        "account.cancelled",
        "bill_run.started",
        "bill_run.completed",
        "invoice.posted",
        "invoice.overdue",
        "invoice.delivered",
        "refund.issued",
        "credit.processed",
        "contract.under_commit",
        "sim.dormant",
        "package.cancelled",
        "usage.threshold_exceeded",
    } == names
    transition = next(t for t in billing if t["name"] == "service.state_changed")
    assert {"previous_state", "new_state"} <= {t["name"] for t in transition["tokens"]}
    # Installing again keeps what exists; another organization sees none of it.
    assert api_client(cast.key).post("/event-types/catalogs/billing").json() == []
    other = {t["name"] for t in api_client(cast.other_key).get("/event-types").json()}
    assert "invoice.overdue" not in other


def test_it_manages_custom_types(cast, api_client):
    client = api_client(cast.key)
    body = {
        "name": "crm.lead_won",
        "description": "A lead became a customer",
        "tokens": [{"name": "lead.value", "type": "number", "example": 1200}],
    }
    created = client.post("/event-types", body)
    assert created.status_code == 201 and created.json()["custom"] is True
    assert client.post("/event-types", body).status_code == 422
    changed = client.patch("/event-types/crm.lead_won", {"description": "Won"})
    assert changed.json()["description"] == "Won"
    assert api_client(cast.other_key).patch("/event-types/crm.lead_won", {}).status_code == 404
    assert api_client(cast.readonly_key).delete("/event-types/crm.lead_won").status_code == 403
    assert client.delete("/event-types/crm.lead_won").status_code == 204
    assert not CustomEventType.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"name": "NoDots"}, "name", "string_pattern_mismatch"),
        ({"name": "customer.created"}, "name", "builtin"),
        (
            {"name": "a.b", "tokens": [{"name": "x", "type": "money"}]},
            "tokens.0.type",
            "value_error",
        ),
    ],
)
def test_it_refuses_bad_custom_types(cast, api_client, body, field, rule):
    response = api_client(cast.key).post("/event-types", body)
    assert response.status_code == 422
    assert field_errors(response) == {field: rule}


def test_it_records_a_posted_event_once_per_idempotency_key(cast, api_client, billing):
    client = api_client(cast.key)
    body = {
        "type": "invoice.delivered",
        "subject": "invoice:42",
        "data": {"delivered_at": "2026-11-02T08:15:00Z"},
        "ordering_key": "account:7",
        "occurred_at": "2026-11-02T08:15:00Z",
    }
    first = client.post("/events", body, **{"Idempotency-Key": "abc-1"})
    assert first.status_code == 201, first.content
    again = client.post("/events", body, **{"Idempotency-Key": "abc-1"})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert client.post("/events", body).status_code == 201  # no key: a new event
    assert Event.objects.filter(organization=cast.org).count() == 2
    assert first.json()["source"].startswith("api:")
    assert first.json()["ordering_key"] == "account:7"


def test_it_refuses_unknown_types_naming_the_field(cast, api_client):
    response = api_client(cast.key).post("/events", {"type": "invoice.delivered"})
    assert response.status_code == 422
    assert field_errors(response) == {"type": "unknown"}
    naive = api_client(cast.key).post(
        "/events", {"type": "customer.created", "occurred_at": "2026-01-01T00:00:00"}
    )
    assert field_errors(naive) == {"occurred_at": "value_error"}
    assert not Event.objects.exists()


def test_it_refuses_posting_with_a_read_only_key_and_wrong_methods(cast, api_client):
    body = {"type": "customer.created"}
    assert api_client(cast.readonly_key).post("/events", body).status_code == 403
    assert api_client(cast.key).put("/events", body).status_code == 405
    assert api_client(None).get("/events").status_code == 401


def test_it_lists_and_filters_the_log(cast, api_client):
    emit_many(
        cast.org,
        [
            NewEvent("customer.created", "customer:1", {}, "k1"),
            NewEvent("contact.created", "contact:1", {}, "k1"),
            NewEvent("customer.updated", "customer:1", {}, "k2"),
        ],
    )
    emit(cast.other_org, "customer.created", "customer:x")
    client = api_client(cast.readonly_key)
    page = client.get("/events").json()
    assert [e["type"] for e in page["items"]] == [
        "customer.updated",
        "contact.created",
        "customer.created",
    ]
    assert page["count"] == 3
    assert [e["sequence"] for e in client.get("/events?type=customer.*").json()["items"]] == [3, 1]
    assert client.get("/events?subject=contact:1").json()["count"] == 1
    assert client.get("/events?ordering_key=k2").json()["count"] == 1
    forward = client.get("/events?after=1").json()["items"]
    assert [e["sequence"] for e in forward] == [2, 3]
    one = page["items"][0]
    assert client.get(f"/events/{one['id']}").json()["sequence"] == 3
    assert api_client(cast.other_key).get(f"/events/{one['id']}").status_code == 404
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert client.get(f"/events?since={later}").json()["count"] == 0
