import asyncio
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from sofno.core import http


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def open_policy(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_PORTS = "*"
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    return settings


REFUSED = {
    "private 10/8": "10.1.2.3",
    "private 172.16/12": "172.20.0.1",
    "private 192.168/16": "192.168.1.1",
    "loopback": "127.0.0.1",
    "loopback other": "127.8.9.10",
    "link-local": "169.254.169.254",
    "shared 100.64/10": "100.64.0.1",
    "multicast": "224.0.0.251",
    "broadcast": "255.255.255.255",
    "unspecified": "0.0.0.0",
    "this network": "0.1.2.3",
    "documentation": "192.0.2.10",
    "documentation 2": "198.51.100.7",
    "documentation 3": "203.0.113.9",
    "benchmarking": "198.19.0.1",
    "reserved 240/4": "240.0.0.1",
    "ietf 192.0.0/24": "192.0.0.8",
    "ipv6 loopback": "::1",
    "ipv6 unspecified": "::",
    "ipv6 ula": "fd12:3456::1",
    "ipv6 link-local": "fe80::1",
    "ipv6 multicast": "ff02::1",
    "ipv6 documentation": "2001:db8::1",
    "6to4": "2002:7f00:1::1",
    "nat64": "64:ff9b::7f00:1",
    "nat64 local": "64:ff9b:1::a00:1",
    "teredo": "2001:0:4136:e378::1",
    "ipv4-mapped loopback": "::ffff:127.0.0.1",
    "ipv4-mapped public": "::ffff:8.8.8.8",
    "ipv4-compatible": "::127.0.0.1",
}


@pytest.mark.parametrize("address", REFUSED.values(), ids=REFUSED.keys())
def test_it_refuses_each_non_public_class(open_policy, address):
    assert http.refusal_reason(address)
    with pytest.raises(http.AddressRefused):
        http.check_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111"])
def test_it_allows_public_addresses(open_policy, address):
    assert http.refusal_reason(address) is None


def test_it_refuses_a_name_that_resolves_to_loopback(open_policy, server):
    with http.sync_client(timeout=3) as client, pytest.raises(http.AddressRefused):
        client.get(f"http://localhost:{server}/")


def test_it_refuses_a_loopback_literal_even_though_something_listens(open_policy, server):
    with http.sync_client(timeout=3) as client, pytest.raises(http.AddressRefused):
        client.get(f"http://127.0.0.1:{server}/")


def test_it_refuses_the_ipv4_mapped_form_even_when_loopback_is_allowed(open_policy, server):
    open_policy.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with http.sync_client(timeout=3) as client, pytest.raises(http.AddressRefused):
        client.get(f"http://[::ffff:127.0.0.1]:{server}/")


def test_it_connects_when_an_administrator_allows_the_range(open_policy, server):
    open_policy.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with http.sync_client(timeout=3) as client:
        assert client.get(f"http://127.0.0.1:{server}/").text == "ok"
    # The name resolves at connect time too, and its loopback address is allowed now.
    if socket.getaddrinfo("localhost", server)[0][4][0].startswith("127."):
        with http.sync_client(timeout=3) as client:
            assert client.get(f"http://localhost:{server}/").status_code == 200


def test_it_guards_the_async_client_too(open_policy, server):
    async def run():
        async with http.async_client(timeout=3) as client:
            with pytest.raises(http.AddressRefused):
                await client.get(f"http://localhost:{server}/")
            open_policy.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
            response = await client.get(f"http://127.0.0.1:{server}/")
            assert response.status_code == 200

    asyncio.run(run())


def test_it_does_not_follow_redirects_or_use_env_proxies(open_policy, monkeypatch, server):
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.1:3128")
    open_policy.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with http.sync_client(timeout=3) as client:
        assert client.get(f"http://127.0.0.1:{server}/").status_code == 200
        assert client.follow_redirects is False


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://example.com/hook", "https_only"),
        ("ftp://example.com/hook", "https_only"),
        ("https://example.com:8443/hook", "port"),
        ("https://user:pw@example.com/hook", "invalid"),
        ("https:///nohost", "invalid"),
        ("https://example.com/" + "a" * 2048, "max_length"),
    ],
)
def test_it_refuses_urls_against_the_policy(settings, url, rule):
    settings.WEBHOOK_ALLOW_HTTP = False
    settings.WEBHOOK_ALLOWED_PORTS = ["443"]
    with pytest.raises(http.UrlRefused) as caught:
        http.check_url(url)
    assert caught.value.rule == rule


def test_it_accepts_https_on_443_and_allowed_ports(settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    settings.WEBHOOK_ALLOWED_PORTS = ["443", "8443"]
    assert http.check_url("https://example.com/hook")
    assert http.check_url("https://example.com:443/hook")
    assert http.check_url("https://example.com:8443/hook")
    assert len("https://example.com/" + "a" * 2028) == 2048
    assert http.check_url("https://example.com/" + "a" * 2028)


def test_it_refuses_a_request_url_against_the_policy_at_send_time(settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    with http.sync_client(timeout=3) as client, pytest.raises(http.UrlRefused):
        client.get("http://example.com/")
    assert httpx  # the client is httpx's
