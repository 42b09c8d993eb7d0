import threading
import time

import pytest
from django.db import connection

from sofno.events import actions
from sofno.events.emit import NewEvent, emit, emit_many
from sofno.events.models import Consumer


@pytest.fixture
def consumer(cast, api_client):
    emit(cast.org, "customer.created", "old")  # before the consumer: not for it
    response = api_client(cast.key).post(
        "/consumers", {"name": "warehouse", "event_types": ["customer.*"]}
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_it_reads_the_log_in_order_from_its_cursor(cast, api_client, consumer):
    emit_many(
        cast.org,
        [
            NewEvent("customer.created", "a"),
            NewEvent("contact.created", "b"),
            NewEvent("customer.updated", "c"),
        ],
    )
    client = api_client(cast.key)
    page = client.get(f"/consumers/{consumer['id']}/events").json()
    assert [e["subject"] for e in page["events"]] == ["a", "c"]
    assert page["next_cursor"] == "4"
    again = client.get(f"/consumers/{consumer['id']}/events").json()
    assert [e["subject"] for e in again["events"]] == ["a", "c"]  # nothing committed yet
    committed = client.post(f"/consumers/{consumer['id']}/cursor", {"cursor": 4})
    assert committed.json()["cursor"] == "4"
    assert client.get(f"/consumers/{consumer['id']}/events").json()["events"] == []
    limited = client.get(f"/consumers/{consumer['id']}/events?after=0&limit=1").json()
    assert [e["subject"] for e in limited["events"]] == ["old"]
    assert limited["next_cursor"] == "1"


def test_it_skips_past_filtered_out_events_when_nothing_matches(cast, api_client, consumer):
    emit_many(cast.org, [NewEvent("contact.created", str(i)) for i in range(3)])
    page = api_client(cast.key).get(f"/consumers/{consumer['id']}/events").json()
    assert page == {"events": [], "next_cursor": "4"}


def test_it_waits_for_new_events_up_to_the_timeout(cast, api_client, consumer):
    started = time.monotonic()
    page = api_client(cast.key).get(f"/consumers/{consumer['id']}/events?wait=1").json()
    assert page["events"] == []
    assert 0.9 <= time.monotonic() - started < 3


@pytest.mark.django_db(transaction=True)
def test_it_answers_a_long_poll_as_soon_as_an_event_commits(cast, api_client, consumer):
    def later():
        time.sleep(0.6)
        emit(cast.org, "customer.updated", "new")
        connection.close()

    thread = threading.Thread(target=later)
    started = time.monotonic()
    thread.start()
    page = api_client(cast.key).get(f"/consumers/{consumer['id']}/events?wait=10").json()
    thread.join()
    assert [e["subject"] for e in page["events"]] == ["new"]
    assert time.monotonic() - started < 5


def test_it_bounds_the_wait_and_the_cursor(cast, api_client, consumer):
    client = api_client(cast.key)
    too_long = client.get(f"/consumers/{consumer['id']}/events?wait=600")
    assert too_long.status_code == 422
    beyond = client.post(f"/consumers/{consumer['id']}/cursor", {"cursor": 99})
    assert beyond.status_code == 422 and beyond.json()["errors"][0]["field"] == "cursor"
    assert actions.MAX_WAIT_SECONDS <= 30


def test_it_applies_the_rights_model_to_consumers(cast, api_client, consumer):
    readonly, other = api_client(cast.readonly_key), api_client(cast.other_key)
    path = f"/consumers/{consumer['id']}"
    assert readonly.get(path).status_code == 200
    assert readonly.get(path + "/events").status_code == 200
    assert readonly.post("/consumers", {"name": "x"}).status_code == 403
    assert readonly.patch(path, {"name": "y"}).status_code == 403
    assert readonly.post(path + "/cursor", {"cursor": 0}).status_code == 403
    assert readonly.delete(path).status_code == 403
    for call in (other.get(path), other.get(path + "/events"), other.delete(path)):
        assert call.status_code == 404
    assert other.get("/consumers").json() == []
    assert api_client(cast.key).put(path, {}).status_code == 405
    bad = api_client(cast.key).post("/consumers", {"name": "z", "event_types": ["nope.x"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "event_types"
    changed = api_client(cast.key).patch(path, {"event_types": ["contact.*"]})
    assert changed.json()["event_types"] == ["contact.*"]
    assert api_client(cast.key).delete(path).status_code == 204
    assert not Consumer.objects.exists()
