"""Long lists: sorting by column, filters kept in the links, bulk incident actions, and
the customer page's own devices, incidents and tickets."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sofno.directory.models import Customer
from sofno.monitoring.models import DeviceStatus, Incident, IncidentEntry, IncidentStatus
from sofno.tickets.models import Ticket, TicketStatus
from sofno.web.tests.dashboard_world import make_device


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _order(page, *names: str) -> list[str]:
    """``names`` in the order the page shows them."""
    return sorted(names, key=page.text.index)


@pytest.fixture
def shops(cast) -> tuple[Customer, Customer]:
    bar = Customer.objects.create(organization=cast.org, name="Bar Roma", city="Zurich")
    deli = Customer.objects.create(organization=cast.org, name="Deli Milano", city="Assisi")
    return bar, deli


def _incident(device, status=IncidentStatus.OPEN, minutes: int = 5) -> Incident:
    return Incident.objects.create(
        organization=device.organization,
        customer=device.customer,
        device=device,
        title=f"{device.name} is offline",
        status=status,
        opened_at=timezone.now() - dt.timedelta(minutes=minutes),
    )


def test_it_sorts_customers_by_a_column_both_ways(cast, shops):
    client = _client(cast.agent)
    url = reverse("web:customer-list")
    by_city = client.get(url, {"sort": "city"})
    assert by_city.text.index("Deli Milano") < by_city.text.index("Bar Roma")
    backwards = client.get(url, {"sort": "-city"})
    assert backwards.text.index("Bar Roma") < backwards.text.index("Deli Milano")
    # The header sorted on offers the other direction, and says which way it is.
    assert 'aria-sort="ascending"' in by_city.text and "?sort=-city" in by_city.text


@pytest.mark.parametrize("junk", ["password", "-organization__name", "name;drop", "--name", ""])
def test_it_ignores_a_sort_that_is_not_a_column(cast, shops, junk):
    for name in ("customer-list", "device-list", "incident-list", "ticket-list"):
        page = _client(cast.agent).get(reverse(f"web:{name}"), {"sort": junk})
        assert page.status_code == 200, name
    page = _client(cast.agent).get(reverse("web:customer-list"), {"sort": "password"})
    assert page.text.index("Bar Roma") < page.text.index("Deli Milano")  # the default: name


def test_it_sorts_devices_by_status_worst_first_and_by_last_check_in(cast, shops):
    bar, _ = shops
    now = timezone.now()
    make_device(bar, "Alpha", status=DeviceStatus.ONLINE, last_checkin_at=now)
    make_device(bar, "Bravo", status=DeviceStatus.OFFLINE, last_checkin_at=now - dt.timedelta(1))
    make_device(bar, "Charlie", status=DeviceStatus.NEW)  # never checked in: always last
    client = _client(cast.agent)
    url = reverse("web:device-list")
    names = ("Alpha", "Bravo", "Charlie")
    assert _order(client.get(url, {"sort": "status"}), *names) == ["Bravo", "Charlie", "Alpha"]
    assert _order(client.get(url, {"sort": "checkin"}), *names) == ["Bravo", "Alpha", "Charlie"]
    assert _order(client.get(url, {"sort": "-checkin"}), *names) == ["Alpha", "Bravo", "Charlie"]


def test_it_keeps_search_filter_and_sort_in_pager_and_header_links(cast, shops):
    bar, deli = shops
    for n in range(60):
        make_device(bar, f"Till {n:02d}", status=DeviceStatus.OFFLINE)
    make_device(deli, "Till at the deli", status=DeviceStatus.OFFLINE)
    client = _client(cast.agent)
    params = {"q": "till", "status": "offline", "customer": str(bar.public_id), "sort": "-name"}
    page = client.get(reverse("web:device-list"), params)
    assert "Till 59" in page.text and "Till at the deli" not in page.text
    pager = page.text.split('rel="next" href="?', 1)[1].split('"', 1)[0]
    for kept in ("q=till", "status=offline", f"customer={bar.public_id}", "sort=-name", "page=2"):
        assert kept in pager
    # Sorting by another column keeps the search and filters and starts at page 1.
    header = page.text.split('data-sort="customer"><a class="sort-link" href="?', 1)[1]
    header = header.split('"', 1)[0]
    assert "q=till" in header and f"customer={bar.public_id}" in header
    assert "sort=customer" in header and "page=" not in header
    # The search form carries the sort and the customer along.
    assert 'type="hidden" name="sort" value="-name"' in page.text
    assert f'type="hidden" name="customer" value="{bar.public_id}"' in page.text


def test_it_ignores_another_organizations_customer_filter(cast, shops):
    bar, _ = shops
    make_device(bar, "Our till")
    theirs = Customer.objects.create(organization=cast.other_org, name="Globex Diner")
    make_device(theirs, "Their till")
    page = _client(cast.agent).get(reverse("web:device-list"), {"customer": theirs.public_id})
    assert "Our till" in page.text and "Their till" not in page.text
    assert "Globex Diner" not in page.text
    junk = _client(cast.agent).get(reverse("web:ticket-list"), {"customer": "not-a-uuid"})
    assert junk.status_code == 200


def test_it_filters_incidents_and_tickets_by_customer(cast, shops):
    bar, deli = shops
    _incident(make_device(bar, "Bar till"))
    _incident(make_device(deli, "Deli till"))
    status = TicketStatus.objects.create(organization=cast.org, slug="o", name="Open")
    Ticket.objects.create(
        organization=cast.org, number=1, customer=bar, title="Bar printer", status=status
    )
    Ticket.objects.create(
        organization=cast.org, number=2, customer=deli, title="Deli printer", status=status
    )
    client = _client(cast.agent)
    incidents = client.get(reverse("web:incident-list"), {"customer": bar.public_id})
    assert "Bar till" in incidents.text and "Deli till" not in incidents.text
    assert "Customer: Bar Roma" in incidents.text
    tickets = client.get(reverse("web:ticket-list"), {"customer": deli.public_id})
    assert "Deli printer" in tickets.text and "Bar printer" not in tickets.text


def test_it_acknowledges_the_selected_incidents_in_one_go(cast, shops):
    bar, _ = shops
    first, second, left = (_incident(make_device(bar, f"Till {n}")) for n in range(3))
    done = _incident(make_device(bar, "Old till"), status=IncidentStatus.RESOLVED)
    answer = _client(cast.agent).post(
        reverse("web:incident-bulk"),
        {
            "action": "acknowledge",
            "incident": [first.public_id, second.public_id, done.public_id, "junk"],
            "back": "status=all&sort=-opened",
        },
        follow=True,
    )
    assert answer.redirect_chain[0][0] == reverse("web:incident-list") + "?status=all&sort=-opened"
    assert "2 incidents acknowledged." in answer.text
    statuses = dict(Incident.objects.values_list("pk", "status"))
    assert statuses[first.pk] == statuses[second.pk] == IncidentStatus.ACKNOWLEDGED
    assert statuses[left.pk] == IncidentStatus.OPEN and statuses[done.pk] == IncidentStatus.RESOLVED
    # The same trail as the single button: a timeline entry naming who did it.
    entry = IncidentEntry.objects.get(incident=first, kind="acknowledged")
    assert entry.user == cast.agent


def test_it_resolves_the_selected_incidents(cast, shops):
    bar, _ = shops
    one = _incident(make_device(bar, "Till A"))
    acked = _incident(make_device(bar, "Till B"), status=IncidentStatus.ACKNOWLEDGED)
    answer = _client(cast.owner).post(
        reverse("web:incident-bulk"),
        {"action": "resolve", "incident": [one.public_id, acked.public_id]},
        follow=True,
    )
    assert "2 incidents resolved." in answer.text
    assert set(Incident.objects.values_list("status", flat=True)) == {IncidentStatus.RESOLVED}


def test_it_leaves_another_organizations_incidents_untouched(cast, shops):
    bar, _ = shops
    ours = _incident(make_device(bar, "Our till"))
    diner = Customer.objects.create(organization=cast.other_org, name="Globex Diner")
    theirs = _incident(make_device(diner, "Their till"))
    answer = _client(cast.agent).post(
        reverse("web:incident-bulk"),
        {"action": "resolve", "incident": [ours.public_id, theirs.public_id]},
        follow=True,
    )
    assert "1 incident resolved." in answer.text
    theirs.refresh_from_db()
    assert theirs.status == IncidentStatus.OPEN and not theirs.timeline.exists()
    # The outsider cannot reach ours either.
    _client(cast.outsider).post(
        reverse("web:incident-bulk"), {"action": "acknowledge", "incident": [ours.public_id]}
    )
    ours.refresh_from_db()
    assert ours.status == IncidentStatus.RESOLVED and ours.acknowledged_by is None


def test_it_refuses_bulk_actions_to_a_viewer_and_to_get(cast, shops):
    bar, _ = shops
    incident = _incident(make_device(bar, "Till"))
    url = reverse("web:incident-bulk")
    data = {"action": "acknowledge", "incident": [incident.public_id]}
    assert _client(cast.viewer).post(url, data).status_code == 403
    assert _client(cast.agent).get(url).status_code == 405
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN
    # A viewer's list has no checkboxes; a writer's has one per unresolved row.
    assert 'name="incident"' not in _client(cast.viewer).get(reverse("web:incident-list")).text
    writer = _client(cast.agent).get(reverse("web:incident-list")).text
    assert f'name="incident" value="{incident.public_id}"' in writer and 'id="bulk-all"' in writer


def test_it_says_when_nothing_was_selected(cast):
    answer = _client(cast.agent).post(
        reverse("web:incident-bulk"), {"action": "resolve"}, follow=True
    )
    assert answer.status_code == 200 and "No incident was selected." in answer.text
    odd = _client(cast.agent).post(
        reverse("web:incident-bulk"), {"action": "delete", "back": "//evil.example/x"}
    )
    assert odd.status_code == 302 and odd["Location"].startswith("/incidents/?")


def test_it_lists_the_customers_devices_incidents_and_tickets(cast, shops):
    bar, deli = shops
    till = make_device(bar, "Bar till", status=DeviceStatus.OFFLINE, last_checkin_at=timezone.now())
    make_device(bar, "Bar office", status=DeviceStatus.ONLINE)
    make_device(deli, "Deli till")
    _incident(till)
    _incident(make_device(bar, "Old printer"), status=IncidentStatus.RESOLVED)
    status = TicketStatus.objects.create(organization=cast.org, slug="o", name="In progress")
    closed = TicketStatus.objects.create(
        organization=cast.org, slug="c", name="Done", is_open=False
    )
    Ticket.objects.create(organization=cast.org, number=7, customer=bar, title="Jam", status=status)
    Ticket.objects.create(
        organization=cast.org, number=8, customer=bar, title="Gone", status=closed
    )
    page = _client(cast.viewer).get(reverse("web:customer-detail", args=[bar.public_id]))
    assert page.status_code == 200
    devices = page.text.split('id="customer-devices"', 1)[1].split("</section>", 1)[0]
    assert "Bar till" in devices and "Bar office" in devices and "Deli till" not in devices
    assert "Offline" in devices and "Online" in devices and "Never checked in" in devices
    assert f"/devices/?customer={bar.public_id}" in devices
    incidents = page.text.split('id="customer-incidents"', 1)[1].split("</section>", 1)[0]
    assert "Bar till" in incidents and "Old printer" not in incidents
    assert f"/incidents/?customer={bar.public_id}" in incidents
    tickets = page.text.split('id="customer-tickets"', 1)[1].split("</section>", 1)[0]
    assert "#7 Jam" in tickets and "Gone" not in tickets and "In progress" in tickets
    assert f"/tickets/?customer={bar.public_id}" in tickets


def test_it_finds_a_ticket_by_number_or_title(cast, shops):
    bar, _ = shops
    status = TicketStatus.objects.create(organization=cast.org, slug="o", name="Open")
    for number, title in ((41, "Printer jams"), (7, "Till 41 is slow"), (8, "Scanner")):
        Ticket.objects.create(
            organization=cast.org, number=number, customer=bar, title=title, status=status
        )
    page = _client(cast.agent).get(reverse("web:ticket-list"), {"q": "#41"})
    assert "Printer jams" in page.text and "Scanner" not in page.text
    page = _client(cast.agent).get(reverse("web:ticket-list"), {"q": "41"})
    assert "Printer jams" in page.text and "Till 41 is slow" in page.text
    assert "Scanner" not in page.text
