"""Every outbound channel refuses loopback, private, link-local and metadata addresses:
literal, through a name that resolves there, and in IPv4-mapped IPv6 form; when the
target is saved (a 422 naming the field) and when the worker connects (a failed
attempt; the real loopback server behind it never hears a thing).

Names resolve through the guard's resolver seam (``OUTBOUND_RESOLVER``) pointed at a
table, plus the real ``localhost``; nothing of SOFNO is patched.
"""

from __future__ import annotations

import pytest

from sofno.core.tests.test_guard import LITERALS, NAMES, table_resolver
from sofno.events.emit import emit
from sofno.notify.channels.apprise.sending import send_apprise
from sofno.notify.channels.email.sending import send_with_fallback
from sofno.notify.channels.email.smtp import POOL, Email, SmtpSettings
from sofno.notify.channels.webhook import actions
from sofno.notify.channels.webpush.sending import send_push
from sofno.notify.delivery import machinery as delivery
from sofno.notify.models import Delivery, WebhookEndpoint
from sofno.notify.routing import dispatcher
from sofno.notify.testing.fake_push import FakePushService
from sofno.notify.testing.receiver import Receiver
from sofno.notify.testing.smtp_server import SmtpServer

TARGETS = [*LITERALS, *NAMES, "localhost"]


@pytest.fixture
def closed(settings):
    """No range allowed; http and any port allowed, so only the address guard speaks."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    settings.OUTBOUND_ALLOW_HTTP = True
    settings.OUTBOUND_ALLOWED_PORTS = "*"
    settings.OUTBOUND_RESOLVER = table_resolver
    settings.WEBHOOK_TIMEOUT_SECONDS = 3
    return settings


@pytest.fixture
def http_receiver(closed):
    server = Receiver(answer=lambda r: (200, {}, b"ok")).start()
    yield server
    server.stop()


def _port(receiver: Receiver) -> int:
    return int(receiver.url.rsplit(":", 1)[1])


def _errors(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    return {e["field"]: e["rule"] for e in response.json()["errors"]}


# --- webhooks -----------------------------------------------------------------------


@pytest.mark.parametrize("host", TARGETS)
def test_a_webhook_target_is_refused_when_saved(cast, api_client, closed, host):
    response = api_client(cast.key).post("/webhooks", {"url": f"https://{host}/hook"})
    assert _errors(response) == {"url": "address"}
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("host", TARGETS)
def test_a_webhook_target_is_refused_when_connecting(cast, owner_actor, http_receiver, host):
    port = _port(http_receiver)
    endpoint = actions.create_endpoint(
        acting_user=owner_actor, fields={"url": f"http://public.test:{port}/hook"}
    )
    # Saved when it was fine (or the name changed since): the connect still checks.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"http://{host}:{port}/hook")
    emit(cast.org, "customer.created", "c", {})
    dispatcher.dispatch_pending()
    delivery.deliver_due()
    row = Delivery.objects.get(endpoint=endpoint)
    assert "address refused" in row.last_detail
    assert http_receiver.received == []


# --- web push -----------------------------------------------------------------------


@pytest.mark.parametrize("host", TARGETS)
def test_a_push_endpoint_is_refused_when_subscribed(cast, api_client, closed, host):
    from sofno.notify.models import PushSubscription

    client = api_client.as_user(cast.viewer).client
    body = {"endpoint": f"https://{host}:8443/push/x", "keys": {"p256dh": "BPk", "auth": "xyz"}}
    response = client.post("/notifications/push/subscribe", body, content_type="application/json")
    assert _errors(response) == {"endpoint": "address"}
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize("host", TARGETS)
def test_a_push_endpoint_is_refused_when_connecting(closed, host):
    with FakePushService() as service:
        browser = service.subscribe("adam")
        port = service.origin.rsplit(":", 1)[1]
        endpoint = browser.endpoint.replace(f"127.0.0.1:{port}", f"{host}:{port}")
        result = send_push(endpoint, browser.p256dh, browser.auth_b64, {"title": "x"}, 2)
        assert not result.ok and result.permanent and "refused" in result.detail
        assert service.pushes == []


def test_the_push_worker_reports_a_refused_subscription_as_failed(cast, closed):
    from sofno.notify.channels.webpush.adapter import WebPushChannel
    from sofno.notify.models import Channel, PushSubscription

    PushSubscription.objects.create(
        organization=cast.org, user=cast.agent, endpoint="https://127.0.0.1/p", p256dh="a", auth="b"
    )
    event = emit(cast.org, "customer.created", "c", {})
    row = Delivery.objects.create(
        organization=cast.org,
        event=event,
        channel=Channel.WEBPUSH,
        recipient_user=cast.agent,
        sequence=event.sequence,
    )
    from sofno.notify.models import DeliveryMessage

    DeliveryMessage.objects.create(delivery=row, content={"subject": "s", "text": "t"})
    result = WebPushChannel().send(row)
    assert not result.ok and "refused" in result.detail


# --- Apprise ------------------------------------------------------------------------


@pytest.mark.parametrize("host", TARGETS)
def test_an_apprise_target_is_refused_when_saved(cast, api_client, closed, host):
    body = {
        "name": "Apprise",
        "event_types": ["device.offline"],
        "channels": ["apprise"],
        "apprise_urls": [f"json://{host}:8080/hook"],
    }
    response = api_client(cast.key).post("/notification-rules", body)
    errors = _errors(response)
    # Apprise itself cannot parse the bracketed IPv4-mapped form: refused all the same.
    assert errors in ({"apprise_urls.0": "address"}, {"apprise_urls.0": "apprise_url"})


def test_an_apprise_token_that_looks_numeric_is_not_taken_for_an_address(closed):
    from sofno.notify.channels.apprise.sending import validate_url

    assert validate_url("tgram://123456789:ABCdefGHI/12345")
    with pytest.raises(ValueError):
        validate_url("json://127.1:8080/hook")


@pytest.mark.parametrize("host", TARGETS)
def test_an_apprise_target_is_refused_when_connecting(http_receiver, host):
    result = send_apprise(f"json://{host}:{_port(http_receiver)}/hook", "t", "b")
    assert not result.ok and result.permanent
    assert "refused" in result.detail or "not a valid Apprise URL" in result.detail
    assert http_receiver.received == []


def test_an_apprise_name_rebound_to_loopback_is_refused_at_the_socket(http_receiver, closed):
    # The guard's lookup is told "public" while the system resolver (the one Apprise
    # uses) answers loopback: the pre-check passes, the connect itself is refused.
    closed.OUTBOUND_RESOLVER = lambda host, port: ["93.184.216.34"]
    result = send_apprise(f"json://localhost:{_port(http_receiver)}/hook", "t", "b")
    assert not result.ok and result.permanent and "127.0.0.1" in result.detail
    assert http_receiver.received == []


# --- SMTP ---------------------------------------------------------------------------


@pytest.mark.parametrize("host", TARGETS)
def test_an_smtp_host_is_refused_when_saved(cast, api_client, closed, host):
    body = {"name": "Mail", "host": host.strip("[]"), "port": 25, "from_address": "a@acme.test"}
    response = api_client(cast.key).post("/smtp-profiles", body)
    errors = _errors(response)
    # The schema allows no ":" in a host; the guard refuses every other form.
    assert errors in ({"host": "address"}, {"host": "hostname"})
    assert errors == {"host": "address"} or ":" in host


def test_an_smtp_host_change_is_refused_too(cast, api_client, closed):
    client = api_client(cast.key)
    body = {"name": "Mail", "host": "public.test", "port": 25, "from_address": "a@acme.test"}
    profile = client.post("/smtp-profiles", body).json()
    response = client.patch(f"/smtp-profiles/{profile['id']}", {"host": "metadata.test"})
    assert _errors(response) == {"host": "address"}


@pytest.mark.parametrize("host", TARGETS)
def test_an_smtp_host_is_refused_when_connecting(closed, host):
    with SmtpServer() as server:
        smtp = SmtpSettings(host.strip("[]"), server.port, from_address="a@acme.test", timeout=3)
        result = send_with_fallback(Email("x", text="x", to=["b@x.test"]), smtp, None)
        POOL.close_all()
        assert not result.ok and result.permanent and "address refused" in result.detail
        assert server.messages == []
