"""The caller lookup goes through the outbound guard: refused when saved and when called."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sofno.core.tests.test_guard import LITERALS, NAMES, table_resolver
from sofno.oncall.models import OncallSettings

TARGETS = [*LITERALS, *NAMES, "localhost"]


class _Erp(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def erp_port(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    settings.OUTBOUND_ALLOW_HTTP = True
    settings.OUTBOUND_ALLOWED_PORTS = "*"
    settings.OUTBOUND_RESOLVER = table_resolver
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Erp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Erp.hits = 0
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("host", TARGETS)
def test_it_refuses_a_lookup_url_when_saved(cast, api_client, erp_port, host):
    url = f"http://{host}:{erp_port}/lookup"
    response = api_client(cast.key).patch("/oncall/settings", {"lookup_url": url})
    assert response.status_code == 422, response.content
    assert {e["field"]: e["rule"] for e in response.json()["errors"]} == {"lookup_url": "address"}


@pytest.mark.parametrize("host", TARGETS)
def test_it_refuses_a_lookup_url_when_calling(cast, api_client, erp_port, host):
    url = f"http://{host}:{erp_port}/lookup"
    OncallSettings.objects.update_or_create(organization=cast.org, defaults={"lookup_url": url})
    body = api_client(cast.key).get("/callinfo?phone=%2B390612345678").json()
    assert body["external"]["ok"] is False
    assert "address refused" in body["external"]["error"]
    assert _Erp.hits == 0
