"""A device goes offline and the bell's count rises without a reload (Chromium)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sofno.directory.models import Customer
from sofno.monitoring.actions import sweep_offline
from sofno.monitoring.models import Device, DeviceStatus
from sofno.notify.models import InboxItem, NotificationRule
from sofno.notify.testing.helpers import owner


@pytest.mark.browser
def test_it_raises_the_bell_count_live_when_a_device_goes_offline(cast, page, login):
    from sofno.monitoring import actions

    customer = Customer.objects.create(organization=cast.org, name="Pizzeria Roma")
    customer.assigned_agents.add(cast.agent)
    device, _key = actions.create_device(
        acting_user=owner(cast), customer=customer, fields={"name": "Till 1"}
    )
    NotificationRule.objects.create(
        organization=cast.org,
        name="Offline tills",
        event_types=["device.offline"],
        recipients=[{"kind": "assigned_agents"}],
        channels=[],
    )
    login(page, cast.agent)
    page.goto("/")
    page.evaluate("document.body.dataset.marker = 'same page'")
    badge = page.locator("#notification-count")
    badge.wait_for(state="attached")
    assert badge.is_hidden()

    Device.objects.filter(pk=device.pk).update(
        status=DeviceStatus.ONLINE, alert_after=timezone.now() - dt.timedelta(minutes=1)
    )
    assert sweep_offline() == 1  # commits; the rules route it; the bell item is written
    assert InboxItem.objects.filter(user=cast.agent).count() == 1

    page.wait_for_function(
        "document.getElementById('notification-count').textContent === '1'", timeout=15_000
    )
    assert badge.is_visible()
    # No reload happened: the mark set on the page is still there.
    assert page.evaluate("document.body.dataset.marker") == "same page"

    page.click("#notification-bell")
    page.wait_for_url("**/notifications/")
    page.click("#inbox button.btn-link")
    page.wait_for_load_state()
    assert InboxItem.objects.get(user=cast.agent).read_at is not None


@pytest.mark.browser
def test_the_inbox_and_rules_fit_a_phone(cast, phone_page, login):
    from sofno.conftest import horizontal_overflow

    InboxItem.objects.create(
        organization=cast.org, user=cast.owner, title="Till 1 (Pizzeria Roma) is offline " * 3
    )
    login(phone_page, cast.owner)
    for path in ("/notifications/", "/notifications/rules/", "/notifications/rules/new"):
        phone_page.goto(path)
        assert horizontal_overflow(phone_page) <= 0, path


@pytest.mark.browser
def test_the_template_preview_updates_as_you_type(cast, page, login):
    login(page, cast.owner)
    page.goto("/notifications/templates/new")
    page.fill("#id_subject", "{{ device_name }} at {{ customer_name }}")
    page.wait_for_function(
        "document.getElementById('preview-subject').textContent === 'Till 1 at Pizzeria Roma'"
    )
    page.fill("#id_text_body", "{{ custmer_name }}")
    page.wait_for_function(
        "document.getElementById('preview-problems').textContent.includes('custmer_name')"
    )
