"""Web push against a local push service that checks VAPID and decrypts the payload."""

from __future__ import annotations

import pytest

from sofno.notify.channels.webpush import vapid
from sofno.notify.channels.webpush.sending import send_push
from sofno.notify.testing.fake_push import FakePushService


@pytest.fixture
def push_service(loopback):
    with FakePushService() as service:
        yield service


def test_it_pushes_an_encrypted_vapid_signed_message(push_service):
    browser = push_service.subscribe("adam")
    payload = {"title": "Till 1 is offline", "body": "Pizzeria Roma", "url": "/incidents/x/"}
    result = send_push(browser.endpoint, browser.p256dh, browser.auth_b64, payload)
    assert result.ok, result.detail
    (push,) = push_service.pushes
    assert push.error == "" and push.payload == payload
    assert push.claims["aud"] == push_service.origin
    assert push.claims["sub"].startswith("mailto:")
    assert push.ttl > 0


def test_it_signs_with_the_key_browsers_subscribed_with(push_service):
    browser = push_service.subscribe("adam")
    send_push(browser.endpoint, browser.p256dh, browser.auth_b64, {"title": "x"})
    # The service verified the JWT against the header's key; that key is ours.
    assert push_service.pushes[0].error == ""
    assert len(vapid.public_key()) == 87  # 65-byte uncompressed P-256 point, base64url


def test_it_marks_a_gone_subscription_for_removal(push_service):
    browser = push_service.subscribe("gone")
    push_service.gone.add("gone")
    result = send_push(browser.endpoint, browser.p256dh, browser.auth_b64, {"title": "x"})
    assert not result.ok and result.permanent and result.disable_target
    assert result.status_code == 410


def test_it_retries_when_the_push_service_is_unreachable(push_service):
    browser = push_service.subscribe("adam")
    push_service.stop()
    result = send_push(browser.endpoint, browser.p256dh, browser.auth_b64, {"title": "x"}, 2)
    assert not result.ok and not result.permanent and not result.disable_target


def test_the_fake_service_refuses_a_forged_vapid_header(push_service):
    with pytest.raises(ValueError):
        push_service.check_vapid("vapid t=a.b.c, k=" + vapid.public_key())


def test_it_ignores_proxies_from_the_environment(push_service, monkeypatch):
    # A proxy would be what the guard sees; the push service's own address must be.
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.1:3128")
    monkeypatch.setenv("http_proxy", "http://10.0.0.1:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    browser = push_service.subscribe("adam")
    result = send_push(browser.endpoint, browser.p256dh, browser.auth_b64, {"title": "x"}, 2)
    assert result.ok, result.detail
