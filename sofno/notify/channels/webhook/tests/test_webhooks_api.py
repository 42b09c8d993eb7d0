import pytest

from sofno.core.testing import field_errors
from sofno.events.emit import emit
from sofno.notify.delivery import machinery as delivery
from sofno.notify.models import Delivery, WebhookEndpoint
from sofno.notify.routing import dispatcher

URL = "https://hooks.example.com/sofno"


@pytest.fixture
def endpoint(cast, api_client):
    response = api_client(cast.key).post("/webhooks", {"url": URL, "event_types": ["customer.*"]})
    assert response.status_code == 201, response.content
    return response.json()


def test_it_creates_an_endpoint_and_shows_its_secret_once(cast, api_client, endpoint):
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["ordering"] == "unordered" and endpoint["enabled"] is True
    got = api_client(cast.key).get(f"/webhooks/{endpoint['id']}").json()
    assert "secret" not in got
    assert api_client(cast.key).get(f"/webhooks/{endpoint['id']}/secret").json() == {
        "secret": endpoint["secret"],
        "previous": [],
    }


def test_it_lists_updates_and_deletes_endpoints(cast, api_client, endpoint):
    client = api_client(cast.key)
    assert [e["id"] for e in client.get("/webhooks").json()] == [endpoint["id"]]
    changed = client.patch(
        f"/webhooks/{endpoint['id']}",
        {"ordering": "ordered", "rate_limit": 5, "parameters": [{"name": "a", "value": "{{ x }}"}]},
    )
    assert changed.status_code == 200
    assert changed.json()["ordering"] == "ordered" and changed.json()["rate_limit"] == 5
    assert client.delete(f"/webhooks/{endpoint['id']}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"url": "http://hooks.example.com/x"}, "url", "https_only"),
        ({"url": "https://hooks.example.com:8080/x"}, "url", "port"),
        ({"url": "https://hooks.example.com/" + "a" * 2030}, "url", "string_too_long"),
        ({"url": URL, "event_types": ["nope.never"]}, "event_types", "unknown"),
        ({"url": URL, "event_types": ["Bad Type"]}, "event_types", "value_error"),
        ({"url": URL, "headers": {"webhook-id": "x"}}, "headers", "reserved"),
        ({"url": URL, "headers": {"X-A": "a\nb"}}, "headers", "invalid"),
        ({"url": URL, "rate_limit": 0}, "rate_limit", "greater_than_equal"),
        ({"url": URL, "ordering": "sometimes"}, "ordering", "enum"),
        ({"url": URL, "parameters": [{"name": "a"}, {"name": "a"}]}, "parameters", "unique"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(cast, api_client, body, field, rule):
    response = api_client(cast.key).post("/webhooks", body)
    assert response.status_code == 422, response.content
    assert field_errors(response) == {field: rule}
    assert response.json()["code"] == "validation_error"
    assert not WebhookEndpoint.objects.exists()


def test_it_refuses_wrong_methods(cast, api_client, endpoint):
    assert api_client(cast.key).put(f"/webhooks/{endpoint['id']}", {}).status_code == 405
    assert api_client(cast.key).delete("/webhooks").status_code == 405


def test_it_lets_read_only_keys_and_viewers_read_but_not_write(cast, api_client, endpoint):
    readonly = api_client(cast.readonly_key)
    assert readonly.get("/webhooks").status_code == 200
    assert readonly.get(f"/webhooks/{endpoint['id']}").status_code == 200
    assert readonly.get(f"/webhooks/{endpoint['id']}/secret").status_code == 403
    assert readonly.post("/webhooks", {"url": URL}).status_code == 403
    assert readonly.patch(f"/webhooks/{endpoint['id']}", {"enabled": False}).status_code == 403
    assert readonly.delete(f"/webhooks/{endpoint['id']}").status_code == 403
    assert readonly.post(f"/webhooks/{endpoint['id']}/test").status_code == 403
    assert WebhookEndpoint.objects.get().enabled


def test_it_hides_another_organizations_endpoints(cast, api_client, endpoint):
    other = api_client(cast.other_key)
    assert other.get("/webhooks").json() == []
    for call in (
        lambda: other.get(f"/webhooks/{endpoint['id']}"),
        lambda: other.patch(f"/webhooks/{endpoint['id']}", {"enabled": False}),
        lambda: other.delete(f"/webhooks/{endpoint['id']}"),
        lambda: other.get(f"/webhooks/{endpoint['id']}/secret"),
        lambda: other.post(f"/webhooks/{endpoint['id']}/secret/rotate"),
        lambda: other.get(f"/webhooks/{endpoint['id']}/deliveries"),
    ):
        assert call().status_code == 404


def test_it_rotates_the_secret_keeping_the_old_one_for_a_while(cast, api_client, endpoint):
    rotated = api_client(cast.key).post(f"/webhooks/{endpoint['id']}/secret/rotate").json()
    assert rotated["secret"] != endpoint["secret"]
    assert rotated["previous"] == [endpoint["secret"]]


def test_it_lists_deliveries_with_attempts_and_replays_them(
    cast, api_client, receiver, owner_actor
):
    client = api_client(cast.key)
    created = client.post("/webhooks", {"url": receiver.url + "/h"}).json()
    emit(cast.org, "customer.created", "c", {})
    dispatcher.dispatch_pending()
    delivery.deliver_due()
    listed = client.get(f"/webhooks/{created['id']}/deliveries").json()
    assert listed["count"] == 1
    (row,) = listed["items"]
    assert row["status"] == "succeeded" and row["webhook_id"].startswith("msg_")
    detail = client.get(f"/deliveries/{row['id']}").json()
    assert detail["attempts"][0]["status_code"] == 204
    assert client.post(f"/deliveries/{row['id']}/replay").status_code == 202
    assert api_client(cast.readonly_key).post(f"/deliveries/{row['id']}/replay").status_code == 403
    assert api_client(cast.other_key).get(f"/deliveries/{row['id']}").status_code == 404
    delivery.deliver_due()
    detail = client.get(f"/deliveries/{row['id']}").json()
    assert [a["trigger"] for a in detail["attempts"]] == ["scheduled", "manual"]
    failed = client.get(f"/webhooks/{created['id']}/deliveries?status=failed").json()
    assert failed["count"] == 0


def test_it_queues_a_test_event(cast, api_client, receiver):
    client = api_client(cast.key)
    created = client.post("/webhooks", {"url": receiver.url}).json()
    response = client.post(f"/webhooks/{created['id']}/test")
    assert response.status_code == 202
    assert response.json()["event_type"] == "webhook.test"
    assert Delivery.objects.get().endpoint.public_id.hex == created["id"].replace("-", "")
