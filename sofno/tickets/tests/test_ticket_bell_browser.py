"""A technician's bell shows a new assignment, and its link opens the ticket (Chromium)."""

from __future__ import annotations

import pytest

from sofno.core.access import Actor
from sofno.core.models import Role
from sofno.directory.models import Customer
from sofno.notify.models import InboxItem
from sofno.tickets import actions


@pytest.mark.browser
def test_it_rings_the_technicians_bell_and_opens_the_ticket(cast, page, login):
    shop = Customer.objects.create(organization=cast.org, name="Pizzeria Roma")
    owner = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    ticket = actions.create_ticket(acting_user=owner, customer=shop, title="Till 2 does not print")

    login(page, cast.agent)
    page.goto("/")
    badge = page.locator("#notification-count")
    badge.wait_for(state="attached")
    assert badge.is_hidden()

    # Every ticket setting is off by default: the assignment push is always on.
    actions.assign(acting_user=owner, ticket=ticket, technicians=[cast.agent])
    page.wait_for_function(
        "document.getElementById('notification-count').textContent === '1'", timeout=15_000
    )
    assert InboxItem.objects.filter(user=cast.agent).count() == 1

    page.click("#notification-bell")
    page.wait_for_url("**/notifications/")
    assert "Till 2 does not print" in page.locator("#inbox").inner_text()
    page.click("#inbox button.btn-link")
    page.wait_for_url(f"**/tickets/{ticket.public_id}/")
    assert page.locator("h1").inner_text() == f"#{ticket.number} Till 2 does not print"
    assert InboxItem.objects.get(user=cast.agent).read_at is not None


@pytest.mark.browser
def test_the_ticket_notification_settings_fit_a_phone(cast, phone_page, login):
    from sofno.conftest import horizontal_overflow

    login(phone_page, cast.owner)
    phone_page.goto("/tickets/settings/")
    phone_page.check("#closed-notify")
    phone_page.check("#closed-push_technicians")
    assert horizontal_overflow(phone_page) <= 0
    phone_page.click("#ticket-settings button[type=submit]")
    phone_page.wait_for_load_state()
    assert "Tickets: Closed: push technicians" in phone_page.locator("#managed-rules").inner_text()
