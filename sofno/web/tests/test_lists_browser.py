"""The long lists in a real Chromium: bulk acknowledge on a 390 px phone, the
searchable customer select, and every list fitting a phone and a desktop in two
languages."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from sofno.conftest import horizontal_overflow, log_in
from sofno.directory.models import Customer, StaffProfile
from sofno.monitoring.models import Device, DeviceStatus, Incident, IncidentStatus
from sofno.tickets.models import Ticket, TicketStatus
from sofno.web.tests.dashboard_world import make_device

pytestmark = pytest.mark.browser

# Set SOFNO_SCREENSHOTS to a folder to keep what the browser saw.
SHOTS = os.environ.get("SOFNO_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _incidents(cast, count: int) -> list[Incident]:
    shop = Customer.objects.create(organization=cast.org, name="Pizzeria Bella Napoli")
    now = timezone.now()
    return [
        Incident.objects.create(
            organization=cast.org,
            customer=shop,
            device=make_device(shop, f"Till {n}", status=DeviceStatus.OFFLINE),
            title=f"Till {n} is offline",
            opened_at=now - dt.timedelta(minutes=n + 1),
        )
        for n in range(count)
    ]


def test_it_acknowledges_every_incident_of_the_page_from_a_phone(cast, live_server, phone_page):
    incidents = _incidents(cast, 3)
    log_in(phone_page, cast.agent)
    phone_page.goto("/incidents/")
    assert horizontal_overflow(phone_page) <= 0
    bulk = phone_page.get_by_role("button", name="Acknowledge selected")
    assert bulk.is_disabled()  # nothing ticked yet
    select_all = phone_page.get_by_label("Select all on this page")
    box = select_all.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    select_all.tap()
    assert phone_page.locator("#bulk-count").inner_text() == "3 selected"
    shot(phone_page, "incidents-bulk-selected-390-en")
    box = bulk.bounding_box()
    assert box and box["x"] + box["width"] <= 390 and box["height"] >= 30
    with phone_page.expect_navigation():
        bulk.tap()
    assert "3 incidents acknowledged." in phone_page.content()
    shot(phone_page, "incidents-bulk-done-390-en")
    assert set(
        Incident.objects.filter(pk__in=[i.pk for i in incidents]).values_list("status", flat=True)
    ) == {IncidentStatus.ACKNOWLEDGED}
    assert horizontal_overflow(phone_page) <= 0


def test_it_finds_a_customer_by_typing_in_the_device_form(cast, live_server, page):
    Customer.objects.bulk_create(
        Customer(organization=cast.org, name=f"Bar {n:03d}") for n in range(140)
    )
    Customer.objects.create(organization=cast.org, name="Café Zürich Centrale")
    log_in(page, cast.agent)
    page.goto("/devices/new/")
    select = page.locator("#id_customer")
    assert select.locator("option").count() == 142  # 141 and the empty choice
    search = page.get_by_label("Type to filter")
    search.fill("zurich cafe")  # accents and case ignored, words in any order
    assert select.locator("option").all_inner_texts() == ["Café Zürich Centrale"]
    assert page.locator(".select-filter-count").inner_text() == "1 of 141"
    shot(page, "device-form-customer-filter-1280-en")
    search.press("Enter")  # picks, does not send the form
    assert page.url.endswith("/devices/new/")
    search.fill("bar 13")
    names = select.locator("option").all_inner_texts()
    assert len(names) == 12 and all("13" in name for name in names)  # 013, 113, 130-139
    # What the select shows is what is posted: the first match, until another is chosen.
    assert select.input_value() == str(Customer.objects.get(name="Bar 013").public_id)
    select.select_option(label="Bar 013")
    page.fill("#id_name", "Kitchen printer")
    with page.expect_navigation():
        page.locator("#device-form button[type=submit]").click()
    assert Device.objects.get(name="Kitchen printer").customer.name == "Bar 013"


def _world(cast) -> Customer:
    """Enough of everything for the lists to look like a working day."""
    _incidents(cast, 4)
    shop = Customer.objects.create(
        organization=cast.org, name="Ristorante Il Gabbiano del Porto", city="Genova"
    )
    Customer.objects.bulk_create(
        Customer(organization=cast.org, name=f"Bar {n:03d}", city="Roma") for n in range(60)
    )
    now = timezone.now()
    for n, status in enumerate([DeviceStatus.ONLINE, DeviceStatus.OFFLINE, DeviceStatus.NEW]):
        make_device(shop, f"Cassa {n + 1}", status=status, last_checkin_at=now)
    open_status = TicketStatus.objects.create(organization=cast.org, slug="o", name="Open")
    for n in range(3):
        Ticket.objects.create(
            organization=cast.org,
            number=n + 1,
            customer=shop,
            title=f"Printer jams on till {n + 1}",
            status=open_status,
        )
    Incident.objects.create(
        organization=cast.org,
        customer=shop,
        device=Device.objects.get(name="Cassa 2"),
        title="Cassa 2 is offline",
    )
    return shop


@pytest.mark.parametrize("language", ["en", "es"])
def test_it_fits_every_list_on_a_phone_and_a_desktop(cast, live_server, browser, language):
    shop = _world(cast)
    StaffProfile.objects.filter(user=cast.agent).update(language=language)
    pages = {
        "customers": "/customers/?sort=-city",
        "devices": "/devices/?sort=status",
        "incidents": "/incidents/",
        "tickets": "/tickets/",
        "customer": f"/customers/{shop.public_id}/",
    }
    for width, height in ((1366, 900), (390, 844)):
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": height},
        )
        page = context.new_page()
        log_in(page, cast.agent)
        for name, url in pages.items():
            page.goto(url)
            assert horizontal_overflow(page) <= 0, (name, width)
            assert page.locator("html").get_attribute("lang") == language
            shot(page, f"{name}-{width}-{language}")
        context.close()
