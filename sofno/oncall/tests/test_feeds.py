import datetime as dt

import pytest
import time_machine
from django.test import Client
from icalendar import Calendar

from sofno.oncall import actions
from sofno.oncall.models import OncallSettings
from sofno.oncall.tests.helpers import BEFORE_WEEK, WEEK, owner_actor, team

pytestmark = pytest.mark.django_db
ROME = dt.timezone(dt.timedelta(hours=1))  # Rome in November


@pytest.fixture
def published(cast):
    with time_machine.travel(BEFORE_WEEK, tick=False):
        people = team(cast, 3, lines=2)
        draft = actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)
        actions.publish(acting_user=owner_actor(cast), timetable=draft)
        actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)  # a draft
    return people, draft


def events_of(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return [c for c in Calendar.from_ical(response.content).walk("VEVENT")]


def test_it_serves_a_person_feed_matching_the_timetable(published):
    people, timetable = published
    ann = people[0]
    with time_machine.travel(BEFORE_WEEK, tick=False):
        events = events_of(Client().get(f"/oncall/feeds/{ann.feed_token}.ics"))
    expected = {
        (
            dt.datetime.combine(WEEK + dt.timedelta(days=a.day), dt.time(9 + 2 * a.turn), ROME),
            dt.datetime.combine(WEEK + dt.timedelta(days=a.day), dt.time(11 + 2 * a.turn), ROME),
        )
        for a in timetable.assignments.filter(person=ann)
    }
    got = {(e.decoded("dtstart"), e.decoded("dtend")) for e in events}
    assert got == expected and len(events) == timetable.assignments.filter(person=ann).count()


def test_it_serves_the_team_feed_with_every_turn(published, cast):
    people, timetable = published
    token = OncallSettings.for_org(cast.org).team_feed_token
    with time_machine.travel(BEFORE_WEEK, tick=False):
        events = events_of(Client().get(f"/oncall/feeds/{token}.ics"))
    names = {str(p.public_id): p.name for p in people}
    monday_9 = dt.datetime.combine(WEEK, dt.time(9), ROME)
    (first,) = [e for e in events if e.decoded("dtstart") == monday_9]
    on_turn = sorted(
        names[str(a.person.public_id)] for a in timetable.assignments.filter(day=0, turn=0)
    )
    assert str(first["summary"]) == "On the phone: " + ", ".join(on_turn)
    assert len(events) == 4  # 2 days x 2 turns, the unpublished draft left out


def test_it_answers_404_to_an_unknown_token(published):
    assert Client().get("/oncall/feeds/cal_nope.ics").status_code == 404
