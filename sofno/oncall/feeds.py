"""iCalendar feeds of phone turns: one per person and one for the whole team.

Each feed is at a private token URL (no sign-in, so calendar apps can subscribe);
it lists published turns from :data:`PAST_WEEKS` back to every future week.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from icalendar import Calendar, Event

from sofno.oncall.models import Assignment, OncallSettings, Person, Timetable, TimetableStatus
from sofno.oncall.selectors import turn_instants

PAST_WEEKS = 8


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//SOFNO//on-call//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    return calendar


def _weeks(organization_id: int):
    since = timezone.now().date() - dt.timedelta(weeks=PAST_WEEKS)
    return Timetable.objects.filter(
        organization_id=organization_id, status=TimetableStatus.PUBLISHED, week_start__gte=since
    ).select_related("organization")


def person_calendar(person: Person) -> Calendar:
    """Every published turn of ``person``."""
    calendar = _calendar(f"Phone turns: {person.name}")
    rows = (
        Assignment.objects.filter(timetable__in=_weeks(person.organization_id), person=person)
        .select_related("timetable__organization")
        .order_by("timetable__week_start", "day", "turn")
    )
    for row in rows:
        start, end = turn_instants(row.timetable, row.day, row.turn)
        event = Event()
        event.add("uid", f"{row.timetable.public_id}-{row.day}-{row.turn}-{person.public_id}@sofno")
        event.add("summary", f"Phone turn ({row.timetable.turns[row.turn]})")
        event.add("dtstart", start.astimezone(dt.UTC))
        event.add("dtend", end.astimezone(dt.UTC))
        event.add("dtstamp", timezone.now())
        calendar.add_component(event)
    return calendar


def team_calendar(conf: OncallSettings) -> Calendar:
    """Every published turn of the organization, with who takes it."""
    calendar = _calendar(f"Phone turns: {conf.organization.name}")
    slots: dict[tuple, list[str]] = {}
    timetables = {}
    rows = Assignment.objects.filter(timetable__in=_weeks(conf.organization_id)).select_related(
        "person__user", "timetable__organization"
    )
    for row in rows:
        timetables[row.timetable_id] = row.timetable
        slots.setdefault((row.timetable_id, row.day, row.turn), []).append(row.person.name)
    for (timetable_id, day, turn), names in sorted(slots.items()):
        timetable = timetables[timetable_id]
        start, end = turn_instants(timetable, day, turn)
        event = Event()
        event.add("uid", f"{timetable.public_id}-{day}-{turn}@sofno")
        event.add("summary", "On the phone: " + ", ".join(sorted(names)))
        event.add("dtstart", start.astimezone(dt.UTC))
        event.add("dtend", end.astimezone(dt.UTC))
        event.add("dtstamp", timezone.now())
        calendar.add_component(event)
    return calendar


def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The calendar behind a private token: a person's or the team's."""
    person = Person.objects.filter(feed_token=token).select_related("user").first()
    if person is not None:
        calendar = person_calendar(person)
    else:
        conf = OncallSettings.objects.filter(team_feed_token=token).first()
        if conf is None:
            raise Http404("no such feed")
        calendar = team_calendar(conf)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
