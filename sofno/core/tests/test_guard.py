"""The outbound guard itself: the resolver seam, save-time checks, the connect scope."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from sofno.core import guard

# A DNS-like table the guard resolves through in these tests (OUTBOUND_RESOLVER):
# names that resolve to each refused class, and one public name.
TABLE = {
    "loopback.test": ["127.0.0.1"],
    "private.test": ["10.0.0.5"],
    "linklocal.test": ["169.254.10.10"],
    "metadata.test": ["169.254.169.254"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "public.test": ["93.184.216.34"],
}


def table_resolver(host: str, port: int) -> list[str]:
    """The table first, then the system (so ``localhost`` resolves as it really does)."""
    if host in TABLE:
        return TABLE[host]
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


@pytest.fixture
def closed(settings):
    """Nothing allowed but the URL rules relaxed, so only the address guard speaks."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    settings.OUTBOUND_ALLOW_HTTP = True
    settings.OUTBOUND_ALLOWED_PORTS = "*"
    settings.OUTBOUND_RESOLVER = table_resolver
    return settings


class _Ok(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):
        type(self).hits += 1
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
    _Ok.hits = 0
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


NAMES = ["loopback.test", "private.test", "linklocal.test", "metadata.test", "mapped.test"]
LITERALS = ["127.0.0.1", "10.0.0.5", "169.254.10.10", "169.254.169.254", "[::ffff:127.0.0.1]"]


@pytest.mark.parametrize("host", [*LITERALS, *NAMES, "localhost", "127.1", "2130706433"])
def test_it_refuses_at_save_time_what_is_known_then(closed, host):
    with pytest.raises(guard.UrlRefused) as caught:
        guard.check_url(f"https://{host}/hook")
    assert caught.value.rule == "address"


def test_it_accepts_a_public_name_and_an_unresolvable_one_at_save_time(closed):
    assert guard.check_url("https://public.test/hook")
    assert guard.check_url("https://no-such-name.invalid/hook")  # connecting decides


def test_a_resolver_that_does_not_answer_holds_a_save_for_two_seconds_at_most(closed):
    """A dead DNS server (no route to the internet) once held every webhook save for
    its 5 s timeout; the name is accepted unresolved and connecting decides."""
    answered = threading.Event()

    def silent(host: str, port: int) -> list[str]:
        answered.wait(10)
        return ["127.0.0.1"]

    closed.OUTBOUND_RESOLVER = silent
    started = time.monotonic()
    try:
        assert guard.check_url("https://silent.test/hook")
        assert time.monotonic() - started < guard.SAVE_LOOKUP_SECONDS + 1
    finally:
        answered.set()


@pytest.mark.parametrize("host", NAMES)
def test_it_refuses_names_resolving_to_refused_addresses_when_connecting(closed, host):
    with pytest.raises(guard.AddressRefused):
        guard.open_connection(host, 443, timeout=2)


def test_it_allows_a_range_an_administrator_lists_but_never_the_mapped_form(closed, server):
    closed.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    guard.open_connection("loopback.test", server, timeout=2).close()
    with pytest.raises(guard.AddressRefused):
        guard.open_connection("mapped.test", server, timeout=2)


def test_the_old_setting_name_still_allows(closed, server):
    closed.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    guard.open_connection("127.0.0.1", server, timeout=2).close()


def test_the_scope_refuses_what_a_library_connects_after_its_own_resolution(closed, server):
    with guard.scope() as refusals, pytest.raises(guard.AddressRefused):
        requests.get(f"http://localhost:{server}/", timeout=2)
    assert refusals and "127.0.0.1" in refusals[0]
    with guard.scope(), pytest.raises(guard.AddressRefused):
        requests.get(f"http://[::ffff:127.0.0.1]:{server}/", timeout=2)
    assert _Ok.hits == 0
    # Outside a scope nothing is checked (the library is not ours to judge there).
    assert requests.get(f"http://127.0.0.1:{server}/", timeout=2).text == "ok"


def test_the_scope_refuses_a_connect_by_name_and_unix_sockets(closed):
    with guard.scope(), socket.socket() as sock, pytest.raises(guard.AddressRefused):
        sock.connect(("localhost", 9))
    with guard.scope(), socket.socket(socket.AF_UNIX) as sock, pytest.raises(guard.AddressRefused):
        sock.connect("/tmp/nothing.sock")
