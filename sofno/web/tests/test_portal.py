"""The customer's own window: their computers, incidents, tickets and who to call."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from sofno.conftest import horizontal_overflow, log_in
from sofno.core.access import Actor
from sofno.core.models import Role
from sofno.core.testing import make_user
from sofno.directory.models import Customer, CustomerUser, StaffProfile
from sofno.monitoring.models import Device, DeviceStatus, Incident, IncidentStatus
from sofno.tickets import actions as ticket_actions


def _device(customer, name, status=DeviceStatus.ONLINE):
    return Device.objects.create(
        organization=customer.organization,
        customer=customer,
        name=name,
        key_prefix=name[:8],
        key_hash=name.ljust(64, "x"),
        status=status,
    )


@pytest.fixture
def world(cast):
    shop = Customer.objects.create(organization=cast.org, name="Café Central")
    neighbour = Customer.objects.create(organization=cast.org, name="Neighbour Bar")
    till = _device(shop, "Till one", DeviceStatus.OFFLINE)
    _device(shop, "Back office PC")
    other = _device(neighbour, "Neighbour till", DeviceStatus.OFFLINE)
    Incident.objects.create(organization=cast.org, device=till, title="Till one is offline")
    Incident.objects.create(organization=cast.org, device=other, title="Neighbour till is offline")
    shop.assigned_agents.add(cast.agent)
    StaffProfile.objects.update_or_create(user=cast.agent, defaults={"phone": "+390612345678"})
    owner = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    ticket_actions.create_ticket(acting_user=owner, customer=shop, title="Printer jams")
    ticket_actions.create_ticket(acting_user=owner, customer=neighbour, title="Neighbour ticket")
    carla = make_user("carla", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=carla, customer=shop)
    return carla


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_a_customer_user_their_own_window(cast, world):
    client = _client(world)
    home = client.get(reverse("web:dashboard"))
    assert home.status_code == 302 and home["Location"] == reverse("web:portal")
    page = client.get(reverse("web:portal"))
    assert page.status_code == 200
    for mine in ("Café Central", "Till one", "Back office PC", "Printer jams", "+390612345678"):
        assert mine in page.text, mine
    assert "1 computer is offline" in page.text
    assert "Neighbour" not in page.text
    assert page.text.count('class="day ') == 2 * 90


def test_it_is_for_customer_users_only(cast, world):
    assert _client(cast.agent).get(reverse("web:portal")).status_code == 403


def test_it_lists_resolved_incidents_as_past(cast, world):
    Incident.objects.filter(title="Till one is offline").update(status=IncidentStatus.RESOLVED)
    page = _client(world).get(reverse("web:portal"))
    assert "All computers" not in page.text  # the till is still offline by its status
    assert page.text.count("badge text-bg-success") == 1


@pytest.mark.browser
def test_it_fits_a_phone(cast, world, phone_page):
    log_in(phone_page, world, "pw-carla")
    phone_page.goto(reverse("web:portal"))
    assert "Till one" in phone_page.inner_text("#portal-computers")
    assert horizontal_overflow(phone_page) == 0


@pytest.mark.browser
def test_it_fits_a_desktop(cast, world, page):
    log_in(page, world, "pw-carla")
    page.goto(reverse("web:portal"))
    assert page.locator("#portal-tickets li").count() == 1
    assert horizontal_overflow(page) == 0
