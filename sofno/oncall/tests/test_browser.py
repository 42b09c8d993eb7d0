"""The screen pop and the timetable in a real Chromium."""

import pytest

from sofno.conftest import horizontal_overflow, log_in
from sofno.core.testing import ApiClient
from sofno.directory.models import Contact, ContactType, Customer
from sofno.oncall import actions
from sofno.oncall.models import Person
from sofno.oncall.tests.helpers import owner_actor, team

pytestmark = pytest.mark.browser


def test_a_ringing_call_pops_up_in_the_agents_browser(cast, page):
    team(cast, 1)
    staff = Person.objects.get().user
    service, _ = ContactType.objects.get_or_create(
        organization=cast.org, slug="service", defaults={"name": "Service"}
    )
    shop = Customer.objects.create(organization=cast.org, name="Café Central")
    Contact.objects.create(
        organization=cast.org,
        customer=shop,
        name="Lola",
        phone="+34912345678",
        contact_type=service,
    )
    log_in(page, staff)
    page.goto("/oncall/screen/")
    assert page.locator(".callinfo").count() == 0
    answer = ApiClient(cast.key).post(
        "/calls/ringing", {"phone": "+34912345678", "extension": "201"}
    )
    assert answer.status_code == 201
    page.locator(".customer-name").wait_for()  # the page polls every 1.5 s
    assert "Café Central" in page.locator(".customer-name").inner_text()
    assert "Lola" in page.locator(".callinfo").inner_text()
    page.fill(".callinfo textarea", "asked for a new receipt printer")
    page.click(".callinfo button[type=submit]")
    page.wait_for_url("**/oncall/screen/")
    assert "Note saved" in page.locator(".alert").inner_text()


def test_the_timetable_fits_a_phone(cast, phone_page):
    import datetime as dt

    team(
        cast,
        4,
        lines=2,
        turns=["09:00-10:15", "10:15-11:30", "11:30-12:45", "12:45-14:00"],
        days=[0, 1, 2, 3, 4],
    )
    monday = dt.date.today() - dt.timedelta(days=dt.date.today().weekday())
    draft = actions.generate_draft(acting_user=owner_actor(cast), week=monday, time_limit=5)
    actions.publish(acting_user=owner_actor(cast), timetable=draft)
    log_in(phone_page, cast.viewer)
    phone_page.goto("/oncall/")
    assert phone_page.locator("#grid").is_visible()
    assert phone_page.locator("#generate").count() == 0  # a viewer only reads
    assert horizontal_overflow(phone_page) == 0
