"""Apprise URLs as a channel, against a real HTTP receiver on loopback."""

from __future__ import annotations

import pytest

from sofno.notify.channels.apprise.sending import send_apprise, validate_url
from sofno.notify.testing.receiver import Receiver


@pytest.fixture
def http_receiver(loopback):
    server = Receiver(answer=lambda r: (200, {}, b"ok")).start()
    yield server
    server.stop()


def test_it_posts_title_and_body_to_a_json_apprise_target(http_receiver):
    url = http_receiver.url.replace("http://", "json://") + "/hook"
    result = send_apprise(url, "Till 1 is offline", "Pizzeria Roma: Till 1 stopped checking in.")
    assert result.ok, result.detail
    (received,) = http_receiver.received
    assert received.path == "/hook"
    assert received.json["title"] == "Till 1 is offline"
    assert received.json["message"] == "Pizzeria Roma: Till 1 stopped checking in."


def test_it_reports_a_failing_target_as_retryable(loopback):
    failing = Receiver(answer=lambda r: (500, {}, b"no")).start()
    try:
        url = failing.url.replace("http://", "json://")
        result = send_apprise(url, "t", "b")
    finally:
        failing.stop()
    assert not result.ok and not result.permanent
    assert len(failing.received) == 1  # one target, one try: no fan-out behind our back


def test_it_refuses_urls_apprise_does_not_understand(loopback):
    with pytest.raises(ValueError):
        validate_url("nosuchscheme://x")
    assert send_apprise("nosuchscheme://x", "t", "b").permanent
    assert validate_url("json://127.0.0.1:9/hook") == "json://127.0.0.1:9/hook"
