"""The SLA report: monthly availability and incidents per customer."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from sofno.core.models import Role
from sofno.core.testing import make_user
from sofno.directory.models import Customer, CustomerUser
from sofno.monitoring.models import Incident, IncidentStatus, OfflinePeriod
from sofno.web.tests.dashboard_world import make_device

ROME = ZoneInfo("Europe/Rome")  # the cast's organization's timezone


def _at(day: int, hour: int, month: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=ROME)


@pytest.fixture
def shops(cast):
    """September 2026 (30 days): one till down 72 hours of it (10%), one always up."""
    mario = Customer.objects.create(organization=cast.org, name="Trattoria Da Mario")
    down = make_device(mario, "Till 1", created_at=_at(1, 0, month=8))
    make_device(mario, "Till 2", created_at=_at(1, 0, month=8))
    OfflinePeriod.objects.create(
        organization=cast.org, device=down, started_at=_at(10, 0), ended_at=_at(13, 0)
    )
    # Half of this one lies in October: only the September half counts.
    OfflinePeriod.objects.create(
        organization=cast.org, device=down, started_at=_at(30, 12), ended_at=_at(1, 12, month=10)
    )
    Incident.objects.create(
        organization=cast.org,
        device=down,
        title="x",
        opened_at=_at(10, 0),
        status=IncidentStatus.RESOLVED,
    )
    Incident.objects.create(organization=cast.org, device=down, title="y", opened_at=_at(2, 0, 10))
    Customer.objects.create(organization=cast.org, name="Bar Sport")  # no computers
    stranger = Customer.objects.create(organization=cast.other_org, name="Globex Diner")
    make_device(stranger, "Globex till", created_at=_at(1, 0, month=8))
    return mario


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_downloads_the_months_figures_as_csv(cast, shops):
    answer = _client(cast.viewer).get(
        reverse("web:sla-report"), {"month": "2026-09", "format": "csv", "sort": "name"}
    )
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert 'filename="sla-2026-09.csv"' in answer["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    assert rows[0] == ["Customer", "Month", "Computers", "Availability (%)", "Incidents"]
    # Till 1: 72 h + 12 h offline of 720 h = 88.333% up; Till 2: 100%; mean 94.167%.
    assert rows[1:] == [
        ["Bar Sport", "2026-09", "0", "", "0"],
        ["Trattoria Da Mario", "2026-09", "2", "94.167", "1"],
    ]


def test_it_shows_the_month_on_screen_sorted_worst_first(cast, shops):
    answer = _client(cast.owner).get(reverse("web:sla-report"), {"month": "2026-09"})
    assert answer.status_code == 200
    text = answer.text
    assert "94.17%" in text and "September 2026" in text
    assert "Globex" not in text  # another organization's customers are not listed
    assert text.index("Trattoria Da Mario") < text.index("Bar Sport")  # no data goes last


def test_it_falls_back_to_this_month_on_a_bad_month(cast, shops):
    answer = _client(cast.owner).get(reverse("web:sla-report"), {"month": "junk"})
    assert answer.status_code == 200
    assert "still running" in answer.text


def test_it_is_not_for_customer_users(cast, shops):
    carla = make_user("carla", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=carla, customer=shops)
    client = _client(carla)
    assert client.get(reverse("web:sla-report")).status_code == 403
    answer = client.get(reverse("web:sla-report"), {"format": "csv"})
    assert answer.status_code == 403 and b"Trattoria" not in answer.content
