"""The rule builder in a real Chromium: choose a type, build a condition from its
fields, preview who would have been notified, save; and the page on a phone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sofno.conftest import PHONE_VIEWPORT, horizontal_overflow, log_in
from sofno.core.models import Membership
from sofno.events.emit import emit
from sofno.notify.models import NotificationRule

pytestmark = pytest.mark.browser

# Set SOFNO_SCREENSHOTS to a folder to keep what the browser saw.
SHOTS = os.environ.get("SOFNO_SCREENSHOTS")


@pytest.fixture
def urgent_ticket(cast):
    """Adam Smith, and an urgent ticket's event in the log."""
    cast.agent.first_name, cast.agent.last_name = "Adam", "Smith"
    cast.agent.save()
    emit(
        cast.org,
        "ticket.created",
        "ticket:7",
        {"ticket": {"number": 7, "priority": "urgent"}, "technicians": []},
    )
    return Membership.objects.get(user=cast.agent, organization=cast.org)


def test_it_builds_previews_and_saves_a_rule(cast, page, urgent_ticket):
    log_in(page, cast.owner)
    page.goto("/notifications/rules/new")
    assert page.locator("#ticket-statuses").is_hidden()  # no ticket type chosen yet
    page.fill("#id_name", "Urgent tickets")
    page.fill("#event-type-filter", "ticket.cre")
    assert page.locator(".event-type-option[data-name='device.offline']").is_hidden()
    page.check("#event-type-list input[value='ticket.created']")
    assert page.locator("#ticket-statuses").is_visible()

    page.click("#condition-add")
    row = page.locator(".condition-row").last
    row.locator(".condition-token").select_option("ticket.priority")
    row.locator(".condition-op").select_option("eq")
    row.locator(".condition-value").fill("urgent")
    page.check(f"input[name=users][value='{urgent_ticket.public_id}']")
    page.check("input[name=channels][value=email]")

    page.evaluate("document.body.dataset.marker = 'same page'")
    page.click("#rule-preview-button")
    page.wait_for_selector("#rule-preview-people")
    assert "Adam Smith" in page.locator("#rule-preview-people").inner_text()
    assert page.evaluate("document.body.dataset.marker") == "same page"  # shown in place
    # The admin's own rules (the ticket.created wrote the tickets' managed ones).
    own = NotificationRule.objects.filter(managed_by="")
    assert not own.exists()

    page.click("#rule-save")
    page.wait_for_url("**/notifications/rules/")
    assert "Urgent tickets" in page.locator("#rules").inner_text()
    rule = own.get()
    assert rule.event_types == ["ticket.created"]
    assert rule.conditions == [{"token": "ticket.priority", "op": "eq", "value": "urgent"}]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("width", [1366, PHONE_VIEWPORT["width"]])
def test_it_fits_wide_and_phone_screens(cast, browser, live_server, urgent_ticket, language, width):
    from sofno.directory.models import StaffProfile

    # The page speaks the person's own language (their profile wins over the browser's).
    StaffProfile.objects.update_or_create(user=cast.owner, defaults={"language": language})
    phone = width < 500
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": 900},
        locale=language,
        is_mobile=phone,
        has_touch=phone,
    )
    try:
        page = context.new_page()
        log_in(page, cast.owner)
        page.goto("/notifications/rules/new")
        page.fill("#id_name", "Urgent tickets")
        page.check("#event-type-list input[value='ticket.created']")
        page.click("#condition-add")
        row = page.locator(".condition-row").last
        row.locator(".condition-token").select_option("ticket.priority")
        row.locator(".condition-value").fill("urgent")
        page.check(f"input[name=users][value='{urgent_ticket.public_id}']")
        page.click("#rule-preview-button")
        page.wait_for_selector("#rule-preview-people")
        assert horizontal_overflow(page) == 0
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=str(Path(SHOTS) / f"rule_form_{language}_{width}.png"), full_page=True
            )
    finally:
        context.close()


def test_it_shows_an_edited_rules_type_and_rows(cast, page):
    rule = NotificationRule.objects.create(
        organization=cast.org,
        name="Sites down",
        event_types=["site.down"],
        conditions=[{"token": "customer_name", "op": "contains", "value": "Roma"}],
        recipients=[{"kind": "role", "value": ["admin"]}],
    )
    log_in(page, cast.owner)
    page.goto(f"/notifications/rules/{rule.public_id}/")
    option = page.locator(".event-type-option[data-name='site.down']")
    assert option.locator("input").is_checked()
    box = page.locator("#event-type-list").bounding_box()
    seen = option.bounding_box()
    assert box["y"] <= seen["y"] <= box["y"] + box["height"]  # scrolled into the list's view
    assert page.locator("#ticket-statuses").is_hidden()
    assert page.locator(".condition-token").input_value() == "customer_name"
    assert page.locator(".condition-value").input_value() == "Roma"
