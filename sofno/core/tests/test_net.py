"""The client IP: X-Forwarded-For only from trusted proxies."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from sofno.core.net import client_ip, parse_networks

PROXIES = tuple(parse_networks(["10.0.0.0/8", "127.0.0.1", "fd00::/8"]))


def _request(peer: str, xff: str | None = None):
    headers = {"X-Forwarded-For": xff} if xff is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=peer, headers=headers)


def test_it_ignores_forwarded_for_by_default(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("127.0.0.1", "203.0.113.9")) == "127.0.0.1"


def test_it_ignores_a_spoofed_header_from_an_untrusted_peer():
    request = _request("198.51.100.7", "203.0.113.9, 10.0.0.2")
    assert client_ip(request, PROXIES) == "198.51.100.7"


def test_it_takes_the_address_our_proxy_saw():
    assert client_ip(_request("10.0.0.2", "203.0.113.9"), PROXIES) == "203.0.113.9"


def test_it_walks_from_the_right_skipping_trusted_hops():
    # The client wrote "1.1.1.1" itself; our edge proxy appended what it saw, and an
    # inner proxy (10.0.0.3) appended the edge proxy's address.
    request = _request("10.0.0.2", "1.1.1.1, 203.0.113.9, 10.0.0.3")
    assert client_ip(request, PROXIES) == "203.0.113.9"


def test_it_reads_the_trusted_proxies_setting(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_request("10.1.2.3", "192.0.2.44")) == "192.0.2.44"
    settings.TRUSTED_PROXIES = ["172.16.0.0/12"]
    assert client_ip(_request("10.1.2.3", "192.0.2.44")) == "10.1.2.3"


def test_it_stops_at_a_malformed_hop():
    request = _request("10.0.0.2", "203.0.113.9, not-an-ip, 10.0.0.5")
    assert client_ip(request, PROXIES) == "10.0.0.5"


def test_it_handles_ipv6_and_ports():
    assert client_ip(_request("fd00::1", "[2001:db8::5]:4711"), PROXIES) == "2001:db8::5"
    assert client_ip(_request("10.0.0.2", "203.0.113.9:5555"), PROXIES) == "203.0.113.9"
    assert client_ip(_request("::ffff:10.0.0.2", "203.0.113.9"), PROXIES) == "203.0.113.9"


def test_it_uses_the_peer_when_the_chain_is_empty():
    assert client_ip(_request("10.0.0.2", ""), PROXIES) == "10.0.0.2"
    assert client_ip(_request("10.0.0.2"), PROXIES) == "10.0.0.2"


def test_it_reads_an_asgi_scope():
    scope = {
        "type": "http",
        "client": ("10.0.0.2", 5000),
        "headers": [(b"x-forwarded-for", b"203.0.113.9")],
    }
    assert client_ip(scope, PROXIES) == "203.0.113.9"
    scope["client"] = ("198.51.100.1", 5000)
    assert client_ip(scope, PROXIES) == "198.51.100.1"


def test_it_rejects_a_malformed_network_naming_the_setting():
    with pytest.raises(ImproperlyConfigured, match=r"SOFNO_TRUSTED_PROXIES.*10\.0\.0\.0/33"):
        parse_networks(["10.0.0.0/33"])
