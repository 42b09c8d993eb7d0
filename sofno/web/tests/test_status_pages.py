"""A customer's public status page: off by default, a private URL, rotation kills it."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from sofno.conftest import horizontal_overflow
from sofno.core.models import Role
from sofno.core.testing import make_user
from sofno.directory.models import Customer, CustomerUser, StatusPage
from sofno.monitoring.models import Device, DeviceStatus


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
def shop(cast):
    shop = Customer.objects.create(organization=cast.org, name="Café Central")
    _device(shop, "Till one")
    _device(shop, "Back office PC", DeviceStatus.OFFLINE)
    neighbour = Customer.objects.create(organization=cast.org, name="Neighbour Bar")
    _device(neighbour, "Neighbour till")
    return shop


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _publish(client: Client, customer, hide_names: bool = False) -> str:
    data = {"action": "publish", **({"hide_names": "on"} if hide_names else {})}
    page = client.post(
        reverse("web:status-page-switch", args=[customer.public_id]), data, follow=True
    )
    assert page.status_code == 200
    return re.search(r"(/status/[\w-]+/)", page.text)[1]


def test_it_is_off_until_staff_turn_it_on(cast, shop):
    assert not StatusPage.objects.exists()
    assert Client().get("/status/anything/").status_code == 404
    url = _publish(_client(cast.agent), shop)
    page = Client().get(url)  # nobody signed in
    assert page.status_code == 200
    assert "Till one" in page.text and "Back office PC" in page.text
    assert "1 computer is offline." in page.text
    assert "Neighbour" not in page.text  # another customer's computers never appear
    assert page["Referrer-Policy"] == "no-referrer"
    assert page.text.count('class="day ') == 2 * 90


def test_it_hides_names_when_asked(cast, shop):
    url = _publish(_client(cast.agent), shop, hide_names=True)
    page = Client().get(url)
    assert "Till one" not in page.text and "Computer 1" in page.text


def test_a_new_address_or_turning_it_off_kills_the_old_one(cast, shop):
    client = _client(cast.agent)
    first = _publish(client, shop)
    second = _publish(client, shop)
    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200
    client.post(reverse("web:status-page-switch", args=[shop.public_id]), {"action": "withdraw"})
    assert Client().get(second).status_code == 404


def test_it_lets_only_staff_writers_of_the_organization_switch_it(cast, shop):
    switch = reverse("web:status-page-switch", args=[shop.public_id])
    assert _client(cast.viewer).post(switch, {"action": "publish"}).status_code == 403
    assert _client(cast.outsider).post(switch, {"action": "publish"}).status_code in (403, 404)
    carla = make_user("carla", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=carla, customer=shop)
    assert _client(carla).post(switch, {"action": "publish"}).status_code == 403
    assert not StatusPage.objects.exists()


def _check_fits(browser_page, url: str) -> None:
    browser_page.goto(url)
    assert browser_page.locator(".availability-bar").count() == 2
    assert horizontal_overflow(browser_page) == 0
    assert "Café Central" in browser_page.inner_text("h1")


@pytest.mark.browser
def test_it_fits_a_desktop(cast, shop, page):
    _check_fits(page, _publish(_client(cast.agent), shop))


@pytest.mark.browser
def test_it_fits_a_phone(cast, shop, phone_page):
    _check_fits(phone_page, _publish(_client(cast.agent), shop))
