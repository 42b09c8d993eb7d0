"""The members page in a real Chromium, on a desktop and on a 390 px phone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sofno.conftest import horizontal_overflow, log_in
from sofno.core.access import Actor
from sofno.core.models import Membership, Role
from sofno.core.testing import make_user
from sofno.directory.actions import invitations
from sofno.directory.models import Customer

pytestmark = pytest.mark.browser

# Set SOFNO_SCREENSHOTS to a folder to keep what the browser saw.
SHOTS = os.environ.get("SOFNO_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def clipped_tables(page) -> int:
    """How many CSS pixels the widest table scrolls sideways inside its box (0: none)."""
    return page.evaluate(
        "() => Math.max(0, ...[...document.querySelectorAll('.table-responsive')]"
        ".map(box => box.scrollWidth - box.clientWidth))"
    )


@pytest.fixture
def crowd(cast):
    """Long names and addresses, a customer user and a pending invitation."""
    user = make_user("bartholomew.longname-technician", cast.org, Role.AGENT)
    user.first_name, user.last_name = "Bartholomew", "Featherstonehaugh-Worthington"
    user.email = "bartholomew.featherstonehaugh-worthington@very-long-domain.example"
    user.save()
    customer = Customer.objects.create(organization=cast.org, name="Trattoria Da Mario")
    owner = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    invitations.invite(
        acting_user=owner,
        fields={
            "email": "someone-with-a-long-address@trattoria-da-mario.example",
            "role": Role.CUSTOMER,
            "customer": customer.public_id,
        },
    )
    return user


def test_it_fits_a_phone_and_changes_a_role_there(cast, crowd, phone_page):
    page = phone_page
    log_in(page, cast.owner)
    page.goto("/settings/members/")
    assert horizontal_overflow(page) == 0 and clipped_tables(page) == 0
    row = page.locator('tr[data-member="adam"]')
    remove = row.locator("button", has_text="Remove")
    box = remove.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    shot(page, "members-390")
    row.locator("a", has_text="Change role").click()
    page.wait_for_url("**/settings/members/*/")
    assert horizontal_overflow(page) == 0
    page.select_option("#id_role", "viewer")
    page.click("#member-form button[type=submit]")
    page.wait_for_url("**/settings/members/")
    assert page.locator('tr[data-member="adam"] .member-role').inner_text() == "Viewer"
    assert Membership.objects.get(user=cast.agent).role == Role.VIEWER


def test_it_invites_from_the_desktop_and_the_link_makes_a_member(cast, crowd, page, browser):
    log_in(page, cast.owner)
    page.click("#settings-link")
    page.click("text=Members and roles")
    page.wait_for_url("**/settings/members/")
    assert horizontal_overflow(page) == 0
    shot(page, "members-desktop")
    page.click("#invite-member")
    page.fill("#id_email", "nina@example.com")
    assert not page.locator("#field-customer").is_visible()  # agents see no customer
    page.select_option("#id_role", "customer")
    assert page.locator("#field-customer").is_visible()
    page.select_option("#id_role", "admin")
    page.click("#invite-form button[type=submit]")
    link = page.locator("#invitation-link").input_value()  # no mail server: shown once
    shot(page, "invitation-link")

    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        invitee = context.new_page()
        invitee.goto(link)
        assert horizontal_overflow(invitee) == 0
        shot(invitee, "invitation-accept-390")
        invitee.fill("#id_username", "nina")
        invitee.fill("#id_password", "a long secret 42")
        invitee.fill("#id_password_again", "a long secret 42")
        invitee.click("#accept-form button[type=submit]")
        invitee.wait_for_url(lambda url: "/invite/" not in url)
        assert invitee.locator("#org-name").inner_text() == "Acme Support"
    finally:
        context.close()
    assert Membership.objects.get(user__username="nina").role == Role.ADMIN
    page.goto("/settings/members/")
    assert "nina" in page.locator("#members").inner_text()


def test_every_settings_page_fits_a_phone(cast, crowd, phone_page):
    from sofno.events import actions

    owner = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    custom = actions.create_custom_type(
        acting_user=owner,
        fields={
            "name": "invoice.delivered_to_a_customer_with_a_long_name",
            "description": "An invoice reached the customer's accounting department",
            "tokens": [{"name": "invoice.number_with_a_long_name", "type": "string"}],
        },
    )
    actions.save_consumer(
        acting_user=owner, fields={"name": "ERP", "event_types": [custom.name, "device.*"]}
    )
    actions.save_trigger(
        acting_user=owner,
        fields={"name": "Later", "source_type": custom.name, "emit_type": "device.offline"},
    )
    page = phone_page
    log_in(page, cast.owner)
    for url in (
        "/settings/",
        "/settings/members/invite/",
        "/settings/api-keys/",
        "/settings/api-keys/new/",
        "/settings/event-types/",
        "/settings/event-types/new/",
        "/settings/consumers/",
        "/settings/consumers/new/",
        "/settings/triggers/",
        "/settings/triggers/new/",
    ):
        page.goto(url)
        shot(page, "phone" + url.replace("/", "-").rstrip("-"))
        assert horizontal_overflow(page) == 0 and clipped_tables(page) == 0, url
