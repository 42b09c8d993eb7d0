"""Event types in words fit a 390 px phone: long descriptions wrap or are cut."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sofno.conftest import horizontal_overflow, log_in
from sofno.directory.models import StaffProfile
from sofno.events.emit import emit
from sofno.notify.models import NotificationRule

pytestmark = pytest.mark.browser

# Set SOFNO_SCREENSHOTS to a folder to keep what the browser saw.
SHOTS = os.environ.get("SOFNO_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_it_fits_event_types_in_words_on_a_phone(cast, live_server, phone_page):
    events = [
        emit(cast.org, name)
        for name in ("incident.alert", "monitoring.degraded", "webhook.delivery.exhausted")
    ]
    NotificationRule.objects.create(
        organization=cast.org,
        name="Alerts",
        event_types=["incident.alert", "monitoring.recovered", "oncall.timetable.published"],
    )
    StaffProfile.objects.filter(user=cast.owner).update(language="es")
    log_in(phone_page, cast.owner)
    pages = [
        "/events/",
        f"/events/{events[0].public_id}/",
        f"/notifications/events/{events[0].public_id}/",
        "/notifications/rules/",
        "/notifications/rules/new",
    ]
    for url in pages:
        phone_page.goto(url)
        assert horizontal_overflow(phone_page) <= 0, url
        shot(phone_page, "event-types-" + url.strip("/").replace("/", "-")[:30] + "-390-es")
    phone_page.goto("/events/")
    alert = phone_page.locator("#events tbody tr").last  # the oldest, newest first
    assert alert.locator("code").inner_text() == "incident.alert"
    link = alert.locator(".event-type a")
    assert link.inner_text().endswith("…")  # cut in the list, whole in the tooltip
    assert link.get_attribute("title").startswith("Una incidencia está asentada")
