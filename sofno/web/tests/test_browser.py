"""The pages in a real Chromium: signing in, moving around, and a phone's screen."""

from __future__ import annotations

import asyncio

import pytest

from sofno.conftest import horizontal_overflow, log_in
from sofno.directory.models import Contact, ContactType, Customer

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(cast) -> Customer:
    customer = Customer.objects.create(
        organization=cast.org,
        name="Trattoria Da Mario with a rather long name for a small screen",
        city="Roma",
        timezone="Europe/Rome",
        email="a-very-long-address-for-the-restaurant@trattoria-da-mario.example",
        business_hours={"ranges": [{"day": 0, "start": "11:00", "end": "23:00"}]},
    )
    Contact.objects.create(
        organization=cast.org,
        customer=customer,
        name="Mario Rossi",
        phone="+390612345678",
        contact_type=ContactType.objects.get(organization=cast.org, slug="service"),
        is_primary=True,
    )
    customer.assigned_agents.add(cast.owner)
    return customer


def test_it_signs_in_and_walks_from_the_dashboard_to_a_customer(cast, shop, page):
    page.goto("/customers/")
    assert "/login/" in page.url  # anonymous visitors are sent to sign in
    page.fill("#id_username", cast.owner.username)
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert page.locator(".alert-danger").is_visible()

    log_in(page, cast.owner)
    assert page.locator("#org-name").inner_text() == "Acme Support"
    assert page.locator("#customer-count").inner_text() == "1"
    page.click("nav >> text=Customers")
    page.wait_for_url("**/customers/")
    page.click(f"text={shop.name}")
    page.wait_for_url(f"**/customers/{shop.public_id}/")
    assert "Mario Rossi" in page.locator("#contacts").inner_text()

    page.click("#customer-edit")
    page.fill("#id_business_hours_1", "18:00-09:00")
    page.click("#customer-form button[type=submit]")
    assert "ends before it starts" in page.locator(".field-error").inner_text()
    page.fill("#id_business_hours_1", "09:00-13:00")
    page.fill("#id_city", "Milano")
    page.click("#customer-form button[type=submit]")
    page.wait_for_url(f"**/customers/{shop.public_id}/")
    shop.refresh_from_db()
    assert shop.city == "Milano"


def test_it_fits_a_phone_screen_without_sideways_scrolling(cast, shop, phone_page):
    log_in(phone_page, cast.owner)
    for path in (
        "/",
        "/customers/",
        f"/customers/{shop.public_id}/",
        f"/customers/{shop.public_id}/edit/",
        f"/customers/{shop.public_id}/contacts/new/",
        "/me/profile/",
    ):
        phone_page.goto(path)
        assert horizontal_overflow(phone_page) <= 0, path
    # The collapsed menu opens on a tap and reaches the customers.
    phone_page.goto("/")
    phone_page.click(".navbar-toggler")
    phone_page.click("nav >> text=Customers")
    phone_page.wait_for_url("**/customers/")


def test_it_shows_a_phone_user_the_login_page_in_their_browsers_language(live_server, browser):
    context = browser.new_context(
        base_url=live_server.url, locale="es-ES", viewport={"width": 390, "height": 844}
    )
    try:
        page = context.new_page()
        page.goto("/login/")
        assert page.locator("h1").inner_text() == "Iniciar sesión"
        assert horizontal_overflow(page) <= 0
    finally:
        context.close()


def test_it_leaves_no_event_loop_running_after_the_browser_tests(transactional_db):
    # Runs after the tests above (same module, same database kind). Playwright marks
    # an asyncio loop as running while it is started; the browser fixture must stop
    # it with each test, or every later asyncio.run()/async_to_sync() here fails.
    async def answer() -> int:
        return 42

    assert asyncio.run(answer()) == 42
