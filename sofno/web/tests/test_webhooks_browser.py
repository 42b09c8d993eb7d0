"""Webhook and event pages in a real Chromium, against a real receiver on loopback."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from sofno.conftest import horizontal_overflow, log_in
from sofno.events.emit import emit
from sofno.notify.delivery import machinery as delivery
from sofno.notify.models import Delivery, WebhookEndpoint
from sofno.notify.routing import dispatcher
from sofno.notify.testing.receiver import Receiver

pytestmark = pytest.mark.browser


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_PORTS = "*"
    server = Receiver().start()
    yield server
    server.stop()


def test_it_creates_an_endpoint_sends_a_test_and_shows_the_attempt(cast, page, receiver):
    log_in(page, cast.owner)
    page.click("nav >> text=Webhooks")
    page.wait_for_url("**/webhooks/")
    page.click("#new-webhook")
    page.fill("#id_url", "ftp://hooks.example.com/x")
    page.click("#webhook-form button[type=submit]")
    assert "https://" in page.locator(".field-error").inner_text()
    page.fill("#id_url", receiver.url + "/in")
    page.fill("#id_parameters", "who = {{ customer.name }}")
    page.click("#webhook-form button[type=submit]")
    page.wait_for_url("**/webhooks/*/")
    endpoint = WebhookEndpoint.objects.get()
    page.click("dd details summary")
    assert page.locator("#secret-1").is_visible()
    assert page.locator("#secret-1").text_content() == endpoint.current_secret

    page.click("#send-test")
    page.wait_for_url(f"**/webhooks/{endpoint.public_id}/")
    delivery.deliver_due()
    (got,) = receiver.received
    Webhook(endpoint.current_secret).verify(got.body, got.headers)
    page.reload()
    # The delivery names its event in words (the link), the code small beside it.
    assert page.locator("#deliveries code").first.inner_text() == "webhook.test"
    page.click("#deliveries a >> text=A test event sent to one endpoint by hand.")
    assert "204" in page.locator("#attempts").inner_text()
    page.click("#replay")
    delivery.deliver_due()
    page.reload()
    assert page.locator("#attempts tbody tr").count() == 2
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1


def test_it_fits_a_phone_screen(cast, phone_page, receiver):
    from sofno.core.access import Actor
    from sofno.core.models import Role
    from sofno.notify.channels.webhook import actions

    owner = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    endpoint = actions.create_endpoint(
        acting_user=owner,
        fields={"url": receiver.url + "/a-rather-long-path/for/a/small/screen?x=1"},
    )
    event = emit(cast.org, "customer.created", "customer:1", {"customer": {"name": "Mario"}})
    dispatcher.dispatch_pending()
    delivery.deliver_due()
    row = Delivery.objects.get()
    log_in(phone_page, cast.owner)
    for path in (
        "/events/",
        f"/events/{event.public_id}/",
        "/webhooks/",
        "/webhooks/new/",
        f"/webhooks/{endpoint.public_id}/",
        f"/webhooks/deliveries/{row.public_id}/",
    ):
        phone_page.goto(path)
        assert horizontal_overflow(phone_page) <= 0, path
