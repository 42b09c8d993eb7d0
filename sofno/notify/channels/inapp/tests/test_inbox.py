"""The in-app inbox: bell count, list, mark read / all read, push subscription, and
the page that says which rules an event matched."""

from __future__ import annotations

import pytest
from django.test import Client

from sofno.core.models import Organization
from sofno.events.emit import emit
from sofno.notify.models import (
    Delivery,
    DeliveryMessage,
    InboxItem,
    PushSubscription,
    RuleEvaluation,
)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def item(user, org, title="Till 1 is offline", url="/incidents/x/", read=False):
    from django.utils import timezone

    return InboxItem.objects.create(
        organization=org,
        user=user,
        title=title,
        url=url,
        read_at=timezone.now() if read else None,
    )


def test_it_counts_unread_items_for_the_bell(cast):
    item(cast.agent, cast.org, "one")
    item(cast.agent, cast.org, "two")
    item(cast.agent, cast.org, "old", read=True)
    item(cast.owner, cast.org, "not yours")
    data = client_for(cast.agent).get("/notifications/unread.json").json()
    assert data["unread"] == 2
    assert [i["title"] for i in data["items"]] == ["two", "one"]


def test_it_shows_the_bell_on_every_page(cast):
    page = client_for(cast.agent).get("/").content.decode()
    assert 'id="notification-bell"' in page and "notify/bell.js" in page


def test_it_lists_items_and_opens_one_marking_it_read(cast):
    first = item(cast.agent, cast.org, "Till 1 is offline", url="/incidents/abc/")
    client = client_for(cast.agent)
    page = client.get("/notifications/").content.decode()
    assert "Till 1 is offline" in page and 'id="read-all"' in page
    response = client.post(f"/notifications/{first.public_id}/open")
    assert response.status_code == 302 and response["Location"] == "/incidents/abc/"
    first.refresh_from_db()
    assert first.read_at is not None


def test_it_never_redirects_off_site(cast):
    evil = item(cast.agent, cast.org, url="https://evil.example/")
    response = client_for(cast.agent).post(f"/notifications/{evil.public_id}/open")
    assert response["Location"] == "/notifications/"


def test_it_marks_one_or_all_read(cast):
    one, two = item(cast.agent, cast.org), item(cast.agent, cast.org)
    mine_elsewhere = item(cast.owner, cast.org)
    client = client_for(cast.agent)
    assert client.post(f"/notifications/{one.public_id}/read").status_code == 302
    assert client.get("/notifications/unread.json").json()["unread"] == 1
    client.post("/notifications/read-all")
    assert client.get("/notifications/unread.json").json()["unread"] == 0
    mine_elsewhere.refresh_from_db()
    assert mine_elsewhere.read_at is None
    two.refresh_from_db()
    assert two.read_at is not None


def test_it_refuses_wrong_methods(cast):
    one = item(cast.agent, cast.org)
    client = client_for(cast.agent)
    assert client.get(f"/notifications/{one.public_id}/read").status_code == 405
    assert client.get("/notifications/read-all").status_code == 405
    assert client.post("/notifications/unread.json").status_code == 405


def test_a_viewer_has_an_inbox_too(cast):
    item(cast.viewer, cast.org)
    assert client_for(cast.viewer).get("/notifications/unread.json").json()["unread"] == 1


def test_nobody_can_touch_another_persons_or_organizations_items(cast):
    theirs = item(cast.owner, cast.org)
    other_org = item(cast.outsider, cast.other_org)
    client = client_for(cast.agent)
    assert client.post(f"/notifications/{theirs.public_id}/open").status_code == 404
    assert client.post(f"/notifications/{other_org.public_id}/read").status_code == 404
    outsider = client_for(cast.outsider)
    assert outsider.get("/notifications/unread.json").json()["unread"] == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_it_requires_a_login(cast):
    response = Client().get("/notifications/unread.json")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_it_stores_and_forgets_a_push_subscription(cast):
    client = client_for(cast.agent)
    body = {"endpoint": "https://push.example/abc", "keys": {"p256dh": "BPk", "auth": "xyz"}}
    response = client.post("/notifications/push/subscribe", body, content_type="application/json")
    assert response.status_code == 201
    sub = PushSubscription.objects.get()
    assert sub.user == cast.agent and sub.organization == cast.org and sub.auth == "xyz"
    client.post(
        "/notifications/push/unsubscribe",
        {"endpoint": body["endpoint"]},
        content_type="application/json",
    )
    assert not PushSubscription.objects.exists()


def _subscribe(user, endpoint: str, auth: str):
    body = {"endpoint": endpoint, "keys": {"p256dh": "BPk-" + auth, "auth": auth}}
    return client_for(user).post(
        "/notifications/push/subscribe", body, content_type="application/json"
    )


def test_a_push_subscription_stays_with_its_user(cast):
    endpoint = "https://push.example/adam-browser"
    assert _subscribe(cast.agent, endpoint, "adams-secret").status_code == 201
    for stranger in (cast.outsider, cast.viewer):
        taken = _subscribe(stranger, endpoint, "guessed")
        assert taken.status_code == 409
        assert taken.json()["errors"][0]["field"] == "endpoint"
    sub = PushSubscription.objects.get()
    assert (sub.user, sub.organization, sub.auth) == (cast.agent, cast.org, "adams-secret")
    # Unsubscribing is per user too: a stranger cannot remove it either.
    client_for(cast.outsider).post(
        "/notifications/push/unsubscribe", {"endpoint": endpoint}, content_type="application/json"
    )
    assert PushSubscription.objects.filter(user=cast.agent).exists()


def test_a_shared_browser_moves_its_subscription_to_who_signs_in_next(cast):
    endpoint = "https://push.example/front-desk"
    assert _subscribe(cast.agent, endpoint, "desk-secret").status_code == 201
    # The same browser (it holds the same keys) subscribing for another person.
    assert _subscribe(cast.viewer, endpoint, "desk-secret").status_code == 201
    assert PushSubscription.objects.get().user == cast.viewer


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"endpoint": "http://push.example/x", "keys": {"p256dh": "a", "auth": "b"}}, "endpoint"),
        ({"endpoint": "https://push.example/x", "keys": {}}, "keys"),
        ("not json", "body"),
    ],
)
def test_it_refuses_a_bad_subscription_naming_the_field(cast, body, field):
    data = body if isinstance(body, str) else __import__("json").dumps(body)
    response = client_for(cast.agent).post(
        "/notifications/push/subscribe", data, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert not PushSubscription.objects.exists()


def test_it_serves_the_service_worker_at_the_root():
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert b"showNotification" in response.content


def test_it_shows_why_an_event_notified_whom(cast):
    event = emit(cast.org, "device.offline", "device:x", {"device_name": "Till 1"})
    RuleEvaluation.objects.create(
        organization=cast.org,
        event=event,
        rule_name="Offline tills",
        matched=True,
        reasons=["event type device.offline is selected"],
        deliveries=1,
    )
    RuleEvaluation.objects.create(
        organization=cast.org,
        event=event,
        rule_name="Till 9 only",
        matched=False,
        reasons=["device_name eq 'Till 9': no (it is 'Till 1')"],
    )
    delivery = Delivery.objects.create(
        organization=cast.org,
        event=event,
        channel="email",
        address="adam@example.com",
        recipient_user=cast.agent,
        sequence=event.sequence,
    )
    DeliveryMessage.objects.create(
        delivery=delivery,
        recipient_name="adam",
        deferred_reason="deferred: adam's quiet hours until Wed 08:00 CEST",
    )
    page = client_for(cast.viewer).get(f"/notifications/events/{event.public_id}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Offline tills" in text and "Till 9 only" in text
    assert "device_name eq &#x27;Till 9&#x27;: no" in text
    assert "adam&#x27;s quiet hours until Wed 08:00 CEST" in text
    other = client_for(cast.outsider).get(f"/notifications/events/{event.public_id}/")
    assert other.status_code == 404
    assert Organization.objects.count() == 2
