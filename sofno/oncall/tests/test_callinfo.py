import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sofno.directory.models import Contact, ContactType, Customer
from sofno.monitoring.models import Device, DeviceStatus, Incident, IncidentStatus
from sofno.oncall.models import OncallSettings
from sofno.tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db
PHONE = "+390612345678"


@pytest.fixture
def trattoria(cast):
    service, _ = ContactType.objects.get_or_create(
        organization=cast.org, slug="service", defaults={"name": "Service"}
    )
    customer = Customer.objects.create(organization=cast.org, name="Trattoria Da Mario")
    Contact.objects.create(
        organization=cast.org, customer=customer, name="Mario", phone=PHONE, contact_type=service
    )
    till = Device.objects.create(
        organization=cast.org,
        customer=customer,
        name="till-1",
        status=DeviceStatus.OFFLINE,
        key_prefix="d1",
        key_hash="a" * 64,
    )
    Incident.objects.create(organization=cast.org, device=till, title="till-1 is offline")
    Incident.objects.create(
        organization=cast.org, device=till, title="old", status=IncidentStatus.RESOLVED
    )
    open_status = TicketStatus.objects.create(organization=cast.org, slug="t-open", name="Open")
    done = TicketStatus.objects.create(
        organization=cast.org, slug="t-done", name="Done", is_open=False
    )
    Ticket.objects.create(
        organization=cast.org, number=1, customer=customer, title="Printer", status=open_status
    )
    Ticket.objects.create(
        organization=cast.org, number=2, customer=customer, title="Closed", status=done
    )
    return customer


def test_it_finds_the_caller_with_devices_incidents_and_tickets(cast, api_client, trattoria):
    answer = api_client(cast.key).get("/callinfo?phone=%2B39%2006%201234%205678")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["phone"] == PHONE
    assert [c["name"] for c in body["customers"]] == ["Trattoria Da Mario"]
    assert body["contacts"][0]["name"] == "Mario"
    assert [(d["name"], d["status"]) for d in body["devices"]] == [("till-1", "offline")]
    assert [i["title"] for i in body["incidents"]] == ["till-1 is offline"]
    assert [t["title"] for t in body["tickets"]] == ["Printer"]
    assert body["external"] is None


def test_it_shows_another_organization_nothing(cast, api_client, trattoria):
    body = api_client(cast.other_key).get(f"/callinfo?phone=%2B{PHONE[1:]}").json()
    assert body["customers"] == [] and body["devices"] == [] and body["tickets"] == []


def test_it_names_the_field_of_a_bad_number(cast, api_client):
    answer = api_client(cast.readonly_key).get("/callinfo?phone=0612345678")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "phone"


class _Erp(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self):
        _Erp.seen.append(self.path)
        body = json.dumps({"account": "C-1042", "balance": "overdue"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def erp(settings):
    # An administrator allows the company's own network for the lookup.
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_PORTS = ["*"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Erp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/lookup"
    server.shutdown()
    server.server_close()


def test_it_shows_the_external_lookup_answer(cast, api_client, trattoria, erp):
    OncallSettings.objects.update_or_create(organization=cast.org, defaults={"lookup_url": erp})
    body = api_client(cast.key).get(f"/callinfo?phone=%2B{PHONE[1:]}").json()
    assert body["external"] == {"ok": True, "data": {"account": "C-1042", "balance": "overdue"}}
    assert _Erp.seen[-1] == "/lookup?phone=%2B390612345678"


def test_it_reports_a_refused_lookup_without_failing(cast, api_client, trattoria):
    OncallSettings.objects.update_or_create(
        organization=cast.org, defaults={"lookup_url": "http://127.0.0.1:9/lookup"}
    )
    body = api_client(cast.key).get(f"/callinfo?phone=%2B{PHONE[1:]}").json()
    assert body["external"]["ok"] is False and body["customers"]
