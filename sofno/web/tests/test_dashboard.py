"""The dashboard: what it shows, to whom, and in how many queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sofno.core.models import Role
from sofno.core.testing import make_user
from sofno.directory.models import Customer, CustomerUser
from sofno.monitoring.models import DeviceStatus, Incident, IncidentStatus
from sofno.web.tests.dashboard_world import build, make_device


@pytest.fixture
def world(cast):
    return build(cast)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_the_day_to_the_agent(cast, world):
    page = _client(cast.agent).get(reverse("web:dashboard"))
    assert page.status_code == 200
    text = page.text
    assert reverse("web:incident-detail", args=[world.incident.public_id]) in text
    assert "Till 1 is offline" in text and "3\xa0minutes ago" in text
    assert reverse("web:device-detail", args=[world.till.public_id]) in text
    assert "Trattoria Da Mario" in text
    assert "#41 Printer jams" in text  # the agent's own ticket
    assert "Giulia Rossi" in text and "ext. 201" in text  # on call now
    assert "<svg" in text and "New incidents" in text


def test_it_shows_the_oldest_incident_first_with_its_acknowledgement(cast, world):
    other = make_device(world.shop, "Kitchen", status=DeviceStatus.OFFLINE)
    Incident.objects.create(
        organization=cast.org,
        device=other,
        title="Kitchen is offline",
        opened_at=timezone.now() - dt.timedelta(hours=2),
        status=IncidentStatus.ACKNOWLEDGED,
        acknowledged_by=cast.owner,
    )
    text = _client(cast.agent).get(reverse("web:dashboard-live")).text
    assert text.index("Kitchen is offline") < text.index("Till 1 is offline")
    assert "acknowledged by" in text and "Acknowledged" in text


def test_it_leaves_out_tickets_of_others_and_closed_ones(cast, world):
    text = _client(cast.owner).get(reverse("web:dashboard")).text
    assert "Printer jams" not in text  # assigned to the agent, not the owner
    assert "No open tickets are assigned to you." in text


def test_it_never_shows_another_organizations_data(cast, world):
    stranger = Customer.objects.create(organization=cast.other_org, name="Globex Diner")
    device = make_device(stranger, "Globex till", status=DeviceStatus.OFFLINE)
    Incident.objects.create(organization=cast.other_org, device=device, title="Globex down")
    for url in (reverse("web:dashboard"), reverse("web:dashboard-live")):
        text = _client(cast.owner).get(url).text
        assert "Globex" not in text
        assert str(device.public_id) not in text
        assert "Trattoria Da Mario" in text  # the owner's own data is there


def test_it_keeps_the_live_panels_to_staff(cast, world):
    carla = make_user("carla", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=carla, customer=world.shop)
    client = _client(carla)
    assert client.get(reverse("web:dashboard")).status_code == 302  # to the portal
    assert client.get(reverse("web:dashboard-live")).status_code == 403


def test_it_counts_the_last_24_hours_per_hour(cast, world):
    Incident.objects.create(
        organization=cast.other_org,  # another organization's: not counted
        device=make_device(Customer.objects.create(organization=cast.other_org, name="G"), "G1"),
        title="x",
    )
    text = _client(cast.owner).get(reverse("web:dashboard-live")).text
    assert "1 new incident" in text


def test_it_answers_in_a_few_queries(cast, world):
    for n in range(10):
        device = make_device(world.shop, f"Extra {n}", status=DeviceStatus.OFFLINE)
        Incident.objects.create(organization=cast.org, device=device, title=f"Extra {n}")
    client = _client(cast.agent)
    client.get(reverse("web:dashboard-live"))  # warm the session and caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("web:dashboard-live")).status_code == 200
    assert len(queries) <= 16, [q["sql"] for q in queries]
