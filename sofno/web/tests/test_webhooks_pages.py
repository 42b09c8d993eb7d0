import pytest
from django.test import Client

from sofno.core.access import Actor
from sofno.core.models import Role
from sofno.events.emit import emit
from sofno.notify import reasons
from sofno.notify.channels.webhook import actions
from sofno.notify.delivery import machinery as delivery
from sofno.notify.models import Delivery, WebhookEndpoint
from sofno.notify.routing import dispatcher
from sofno.notify.testing.helpers import set_profile
from sofno.notify.testing.receiver import Receiver


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_PORTS = "*"
    server = Receiver().start()
    yield server
    server.stop()


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def endpoint(cast):
    owner = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    return actions.create_endpoint(
        acting_user=owner, fields={"url": "https://hooks.example.com/a", "description": "ERP"}
    )


def test_it_lists_endpoints_and_shows_the_nav_link(cast, endpoint):
    page = login(cast.viewer).get("/webhooks/")
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        "hooks.example.com/a" in html and 'href="/webhooks/"' in html and 'href="/events/"' in html
    )
    assert "new-webhook" not in html  # a viewer gets no create button


def test_it_creates_an_endpoint_from_the_form(cast):
    client = login(cast.owner)
    assert client.get("/webhooks/new/").status_code == 200
    response = client.post(
        "/webhooks/new/",
        {
            "url": "https://hooks.example.com/new",
            "event_types": "customer.*\ncontact.created",
            "headers": "X-Tenant: acme",
            "parameters": "who = {{ customer.name }}",
            "ordering": "ordered",
            "enabled": "on",
        },
    )
    created = WebhookEndpoint.objects.get(url="https://hooks.example.com/new")
    assert response.status_code == 302 and str(created.public_id) in response["Location"]
    assert created.event_types == ["customer.*", "contact.created"]
    assert created.headers == {"X-Tenant": "acme"}
    assert created.parameters == [{"name": "who", "value": "{{ customer.name }}"}]
    detail = client.get(response["Location"]).content.decode()
    assert created.current_secret in detail


def test_it_shows_the_rule_a_bad_url_breaks(cast):
    response = login(cast.owner).post(
        "/webhooks/new/", {"url": "http://hooks.example.com/x", "ordering": "unordered"}
    )
    assert response.status_code == 200
    assert "https://" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_it_edits_tests_rotates_and_deletes(cast, endpoint):
    client = login(cast.owner)
    base = f"/webhooks/{endpoint.public_id}/"
    edited = client.post(
        base + "edit/", {"url": endpoint.url, "ordering": "unordered", "rate_limit": "3"}
    )
    assert edited.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.rate_limit == 3 and endpoint.enabled is False  # unchecked box
    assert client.post(base + "test/").status_code == 302
    assert Delivery.objects.filter(endpoint=endpoint, event__type="webhook.test").exists()
    old = endpoint.current_secret
    assert client.post(base + "rotate/").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.current_secret != old and len(endpoint.signing_secrets()) == 2
    assert client.post(base + "delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_it_refuses_changes_by_viewers_and_agents(cast, endpoint):
    base = f"/webhooks/{endpoint.public_id}/"
    for user in (cast.viewer, cast.agent):
        client = login(user)
        assert client.get(base).status_code == 200
        assert endpoint.current_secret not in client.get(base).content.decode()
        assert client.get("/webhooks/new/").status_code == 403
        assert client.post(base + "edit/", {"url": "https://x.example.com"}).status_code == 403
        assert client.post(base + "delete/").status_code == 403
        assert client.post(base + "rotate/").status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_it_hides_another_organizations_endpoint(cast, endpoint):
    client = login(cast.outsider)
    base = f"/webhooks/{endpoint.public_id}/"
    assert client.get(base).status_code == 404
    assert client.post(base + "delete/").status_code == 404
    assert client.post(base + "test/").status_code == 404


def test_it_refuses_wrong_methods(cast, endpoint):
    client = login(cast.owner)
    assert client.get(f"/webhooks/{endpoint.public_id}/delete/").status_code == 405
    assert client.put("/webhooks/new/").status_code == 405


def test_it_shows_attempts_and_replays_a_delivery(cast, receiver):
    owner = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    endpoint = actions.create_endpoint(acting_user=owner, fields={"url": receiver.url})
    emit(cast.org, "customer.created", "customer:1", {"customer": {"name": "Mario"}})
    dispatcher.dispatch_pending()
    delivery.deliver_due()
    row = Delivery.objects.get(endpoint=endpoint)
    client = login(cast.owner)
    page = client.get(f"/webhooks/deliveries/{row.public_id}/").content.decode()
    assert row.message_id in page and "204" in page
    assert client.post(f"/webhooks/deliveries/{row.public_id}/replay/").status_code == 302
    assert (
        login(cast.viewer).post(f"/webhooks/deliveries/{row.public_id}/replay/").status_code == 403
    )
    assert login(cast.outsider).get(f"/webhooks/deliveries/{row.public_id}/").status_code == 404
    event_page = client.get(f"/events/{row.event.public_id}/").content.decode()
    assert "Mario" in event_page and str(row.public_id) in event_page


def test_it_lists_and_filters_events(cast):
    emit(cast.org, "customer.created", "customer:1")
    emit(cast.org, "contact.created", "contact:1")
    emit(cast.other_org, "customer.created", "customer:globex")
    client = login(cast.viewer)
    html = client.get("/events/").content.decode()
    assert "contact:1" in html and "customer:1" in html and "globex" not in html
    filtered = client.get("/events/?type=contact.*").content.decode()
    assert "contact:1" in filtered and "customer:1" not in filtered
    assert client.post("/events/").status_code == 405
    other = emit(cast.other_org, "customer.updated", "x")
    assert client.get(f"/events/{other.public_id}/").status_code == 404


def test_it_says_why_an_endpoint_is_off_in_the_readers_language(cast, endpoint, api_client):
    owner = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    actions.update_endpoint(acting_user=owner, endpoint=endpoint, fields={"enabled": False})
    set_profile(cast.owner, language="es")
    page = login(cast.owner).get(f"/webhooks/{endpoint.public_id}/")
    assert "desactivado a mano" in page.text and "by hand" not in page.text
    set_profile(cast.owner, language="it")
    page = login(cast.owner).get(f"/webhooks/{endpoint.public_id}/")
    assert "disattivata a mano" in page.text
    # The API: the words in the caller's language, and the code to match on.
    answer = api_client.as_user(cast.owner).get(f"/webhooks/{endpoint.public_id}").json()
    assert answer["disabled_code"] == reasons.WEBHOOK_BY_HAND
    assert answer["disabled_reason"] == "disattivata a mano"
