"""The operator's console and the device page's availability bar, in a real Chromium."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from sofno.conftest import horizontal_overflow, log_in
from sofno.directory.models import Customer
from sofno.monitoring.models import DeviceStatus, Incident, OfflinePeriod
from sofno.web.tests.dashboard_world import build, make_device

pytestmark = pytest.mark.browser

POLL_WAIT_MS = 25_000  # the page polls every 15 s


def test_it_runs_the_day_and_updates_itself(cast, page):
    world = build(cast)
    log_in(page, cast.agent)
    page.goto("/")
    incidents = page.locator("#open-incidents")
    assert "Till 1 is offline" in incidents.inner_text()
    age = incidents.locator("time").first
    assert "ago" in age.inner_text() and age.get_attribute("title")  # exact time on hover
    group = page.locator(f'#offline-devices [data-customer="{world.shop.public_id}"]')
    assert "Trattoria Da Mario" in group.inner_text() and "Till 1" in group.inner_text()
    assert "Back office" not in group.inner_text()  # online: not listed
    assert "Giulia Rossi" in page.locator("#on-call-now").inner_text()
    assert "Printer jams" in page.locator("#my-tickets").inner_text()
    assert page.locator("#activity svg").count() == 1

    # Something breaks after the page is drawn: it shows up without a reload.
    page.evaluate("window.notReloaded = true")
    kitchen = make_device(world.shop, "Kitchen PC", status=DeviceStatus.OFFLINE)
    Incident.objects.create(organization=cast.org, device=kitchen, title="Kitchen PC is offline")
    incidents.get_by_text("Kitchen PC is offline").wait_for(timeout=POLL_WAIT_MS)
    assert "Kitchen PC" in group.inner_text()
    assert page.evaluate("window.notReloaded") is True


def test_it_fits_a_phone(cast, phone_page):
    build(cast)
    log_in(phone_page, cast.agent)
    phone_page.goto("/")
    assert phone_page.locator("#activity svg").is_visible()
    assert horizontal_overflow(phone_page) <= 0


def test_it_colours_a_day_with_an_offline_period_on_the_device_page(cast, page):
    shop = Customer.objects.create(organization=cast.org, name="Bar Sport", timezone="Europe/Rome")
    zone = ZoneInfo("Europe/Rome")
    now = timezone.now()
    till = make_device(shop, "Till 1", created_at=now - dt.timedelta(days=20))
    yesterday = now.astimezone(zone).date() - dt.timedelta(days=1)
    start = dt.datetime.combine(yesterday, dt.time(6), zone)
    OfflinePeriod.objects.create(
        organization=cast.org, device=till, started_at=start, ended_at=start + dt.timedelta(hours=6)
    )
    log_in(page, cast.owner)
    page.goto(f"/devices/{till.public_id}/")
    cells = page.locator("#availability .availability-bar .day")
    assert cells.count() == 90
    worst = cells.nth(88)  # yesterday: today is the last cell
    assert "down" in worst.get_attribute("class")
    assert "75.00% up" in worst.get_attribute("title")
    assert "up" in cells.nth(87).get_attribute("class").split()
    assert "100.00% up" in cells.nth(87).get_attribute("title")
    assert "none" in cells.nth(0).get_attribute("class").split()  # before it existed
    uptime = page.locator("#uptime").inner_text()
    assert "24 hours" in uptime and "30 days" in uptime
