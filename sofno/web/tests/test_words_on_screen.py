"""No internals on screen: the caller screen, the timetable history and the event log
show words and links, never codes, dicts or ``device:<uuid>``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from sofno.directory.models import Contact, ContactType, Customer
from sofno.events.emit import emit
from sofno.monitoring.models import DeviceStatus, Incident
from sofno.notify.models import Channel, Delivery
from sofno.oncall import actions
from sofno.oncall.models import Call, Timetable
from sofno.oncall.tests.helpers import WEEK, owner_actor, team
from sofno.web.tests.dashboard_world import make_device

PHONE = "+390612345678"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_the_caller_in_words_with_links(cast):
    desk = ContactType.objects.create(organization=cast.org, slug="front-desk", name="Front desk")
    shop = Customer.objects.create(organization=cast.org, name="Trattoria Da Mario")
    Contact.objects.create(
        organization=cast.org, customer=shop, name="Mario", phone=PHONE, contact_type=desk
    )
    till = make_device(shop, "Till 1", status=DeviceStatus.OFFLINE)
    incident = Incident.objects.create(
        organization=cast.org, customer=shop, device=till, title="Till 1 is offline"
    )
    event = emit(
        cast.org,
        "incident.opened",
        f"device:{till.public_id}",
        {"customer_id": str(shop.public_id)},
    )
    Delivery.objects.create(
        organization=cast.org,
        event=event,
        channel=Channel.INAPP,
        sequence=event.sequence,
        recipient_user=cast.agent,
    )
    page = _client(cast.agent).get("/oncall/calls/", {"phone": PHONE})
    assert page.status_code == 200
    text = page.text
    assert "Front desk" in text and "front-desk" not in text
    assert ">Offline<" in text and ">offline<" not in text
    assert f'href="/incidents/{incident.public_id}/"' in text and "(Open)" in text
    assert f'href="/devices/{till.public_id}/"' in text
    assert "Recent notifications" in text and "recent_notifications" not in text
    assert "Incident opened · In-app · adam · Pending" in text
    assert "{'" not in text and "inapp" not in text


def test_it_names_a_bad_number_without_a_field_code(cast):
    page = _client(cast.agent).get("/oncall/calls/", {"phone": "pizza"})
    assert "international form" in page.text and "phone: " not in page.text


def _replaced_first_turn(cast):
    """A two-person draft whose first turn was handed to the other person: the
    draft, the first turn's assignment and the person who took it over."""
    people = team(cast, 2, lines=1)
    draft = actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)
    on = draft.assignments.get(day=0, turn=0)
    other = next(p for p in people if p != on.person)
    actions.replace(
        acting_user=owner_actor(cast),
        timetable=draft,
        day=0,
        turn=0,
        old_person=on.person.public_id,
        new_person=other.public_id,
        reason="cover",
    )
    return draft, on, other


def test_it_tells_a_timetable_change_in_words(cast):
    draft, on, other = _replaced_first_turn(cast)
    page = _client(cast.agent).get(f"/oncall/timetables/{draft.public_id}/")
    history = page.text.split('id="history"', 1)[1].split("</ul>", 1)[0]
    assert f"Mon 09:00-11:00: {other.name} instead of {on.person.name}" in history
    assert "{'" not in history and "'day'" not in history


def test_it_links_an_events_subject_to_the_object_by_name(cast):
    shop = Customer.objects.create(organization=cast.org, name="Bar Roma")
    till = make_device(shop, "Kitchen till")
    emit(cast.org, "device.offline", f"device:{till.public_id}", {})
    emit(cast.org, "customer.updated", f"customer:{shop.public_id}", {})
    theirs = make_device(Customer.objects.create(organization=cast.other_org, name="X"), "Theirs")
    emit(cast.org, "device.offline", f"device:{theirs.public_id}", {})  # not ours to name
    page = _client(cast.agent).get("/events/")
    assert f'<a href="/devices/{till.public_id}/">Kitchen till</a>' in page.text
    assert f'<a href="/customers/{shop.public_id}/">Bar Roma</a>' in page.text
    assert "Theirs" not in page.text and "a deleted device" in page.text
    assert f"device:{till.public_id}" not in page.text.split("<tbody>", 1)[1]


def test_it_names_contacts_timetables_and_calls_instead_of_their_ids(cast):
    desk = ContactType.objects.create(organization=cast.org, slug="desk", name="Desk")
    shop = Customer.objects.create(organization=cast.org, name="Bar Roma")
    mario = Contact.objects.create(
        organization=cast.org, customer=shop, name="Mario", phone=PHONE, contact_type=desk
    )
    week = Timetable.objects.create(organization=cast.org, week_start=dt.date(2026, 11, 30))
    call = Call.objects.create(organization=cast.org, phone=PHONE, extension="201")
    for subject in (f"contact:{mario.public_id}", f"timetable:{week.public_id}"):
        emit(cast.org, "thing.changed", subject, {})
    emit(cast.org, "oncall.call.ringing", f"call:{call.public_id}", {})
    page = _client(cast.owner).get("/events/", HTTP_ACCEPT_LANGUAGE="en").text
    rows = page.split("<tbody>", 1)[1]
    assert f'<a href="/customers/{shop.public_id}/">Mario (Bar Roma)</a>' in rows
    assert f'<a href="/oncall/timetables/{week.public_id}/">Week of 30 Nov 2026</a>' in rows
    assert "Call from +390612345678</a>" in rows
    assert "contact:" not in rows and "timetable:" not in rows and "call:" not in rows


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "es"])
def test_it_fits_the_caller_screen_and_history_on_a_phone(cast, live_server, browser, language):
    from sofno.conftest import horizontal_overflow, log_in
    from sofno.directory.models import StaffProfile
    from sofno.web.tests.test_lists_browser import shot

    test_it_shows_the_caller_in_words_with_links(cast)  # the same caller
    draft, _on, _other = _replaced_first_turn(cast)
    StaffProfile.objects.filter(user=cast.agent).update(language=language)
    for width, height in ((1366, 900), (390, 844)):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}
        )
        page = context.new_page()
        log_in(page, cast.agent)
        page.goto(f"/oncall/calls/?phone=%2B{PHONE[1:]}")
        assert horizontal_overflow(page) <= 0
        shot(page, f"oncall-calls-{width}-{language}")
        page.goto(f"/oncall/timetables/{draft.public_id}/")
        page.locator("#history").scroll_into_view_if_needed()
        assert "{'" not in page.locator("#history").inner_text()
        shot(page, f"oncall-history-{width}-{language}")
        context.close()
