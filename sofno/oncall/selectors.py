"""Who staffs the phones when, read from published timetables."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sofno.core.models import Organization
from sofno.core.usernames import sign_in_name_expression
from sofno.oncall.explain import describe_break, describe_edit, render_report
from sofno.oncall.models import Assignment, Person, Timetable, TimetableStatus
from sofno.oncall.planning import grid_of, problem_for
from sofno.oncall.solver import violations
from sofno.oncall.turns import DAY_LABELS, parse_turns


@dataclass(frozen=True)
class CurrentTurn:
    """One turn of a published timetable, as instants."""

    timetable: Timetable
    day: int
    turn: int
    start: dt.datetime
    end: dt.datetime

    def people(self) -> list[Person]:
        return [
            a.person
            for a in Assignment.objects.filter(
                timetable=self.timetable, day=self.day, turn=self.turn
            )
            .select_related("person__user")
            .order_by(sign_in_name_expression("person__user__username"))
        ]


def _local(organization: Organization, moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(ZoneInfo(organization.timezone))


def turn_at(organization: Organization, moment: dt.datetime) -> CurrentTurn | None:
    """The published turn running at ``moment`` (organization's wall clock), if any."""
    local = _local(organization, moment)
    monday = local.date() - dt.timedelta(days=local.weekday())
    timetable = Timetable.objects.filter(
        organization=organization, week_start=monday, status=TimetableStatus.PUBLISHED
    ).first()
    if timetable is None or local.weekday() not in timetable.days:
        return None
    day = timetable.days.index(local.weekday())
    minute = local.hour * 60 + local.minute
    for index, turn in enumerate(parse_turns(timetable.turns)):
        if turn.contains(minute):
            return CurrentTurn(
                timetable, day, index, *turn_instants(timetable, day, index, local.tzinfo)
            )
    return None


def next_turn(organization: Organization, moment: dt.datetime) -> CurrentTurn | None:
    """The first published turn starting after ``moment``, looking up to two weeks on.

    The dashboard's "on call next"; ``None`` when no published timetable has one.
    """
    local = _local(organization, moment)
    monday = local.date() - dt.timedelta(days=local.weekday())
    timetables = Timetable.objects.filter(
        organization=organization,
        week_start__gte=monday,
        week_start__lte=monday + dt.timedelta(days=7),
        status=TimetableStatus.PUBLISHED,
    ).order_by("week_start")
    for timetable in timetables:
        for day in range(len(timetable.days)):
            for index in range(len(parse_turns(timetable.turns))):
                start, end = turn_instants(timetable, day, index, local.tzinfo)
                if start > local:
                    return CurrentTurn(timetable, day, index, start, end)
    return None


def turn_instants(timetable: Timetable, day: int, turn: int, zone=None):
    """The start and end instants of one turn of ``timetable``."""
    zone = zone or ZoneInfo(timetable.organization.timezone)
    ranges = parse_turns(timetable.turns)
    date = timetable.week_start + dt.timedelta(days=timetable.days[day])
    midnight = dt.datetime.combine(date, dt.time(), tzinfo=zone)
    start = (midnight.replace(tzinfo=None) + dt.timedelta(minutes=ranges[turn].start)).replace(
        tzinfo=zone
    )
    end = (midnight.replace(tzinfo=None) + dt.timedelta(minutes=ranges[turn].end)).replace(
        tzinfo=zone
    )
    return start, end


def on_call_at(organization: Organization, moment: dt.datetime) -> list:
    """The users staffing the phones at ``moment`` by the published timetable.

    Empty outside turns, on days off and in weeks with no published timetable.
    """
    current = turn_at(organization, moment)
    if current is None:
        return []
    return [person.user for person in current.people()]


def published_between(organization: Organization, start: dt.date, end: dt.date):
    """Published timetables whose week starts between ``start`` and ``end``."""
    return Timetable.objects.filter(
        organization=organization,
        status=TimetableStatus.PUBLISHED,
        week_start__gte=start,
        week_start__lte=end,
    ).order_by("week_start")


def timetable_data(timetable: Timetable) -> dict:
    """A timetable as the page and the API show it, with the rules it breaks now."""
    people = {
        str(p.public_id): p
        for p in Person.objects.filter(organization=timetable.organization).select_related("user")
    }
    keys = grid_of(timetable)
    grid = [
        [
            [
                {
                    "id": people[k].public_id,
                    "name": people[k].name,
                    "extension": people[k].extension,
                }
                for k in cell
            ]
            for cell in row
        ]
        for row in keys
    ]
    return {
        "id": timetable.public_id,
        "week_start": timetable.week_start,
        "status": timetable.status,
        "turns": list(timetable.turns),
        "days": [DAY_LABELS[d] for d in timetable.days],
        "dates": timetable.day_dates(),
        "lines": timetable.lines,
        "grid": grid,
        "report": render_report(timetable.report),
        "warnings": [describe_break(v) for v in violations(problem_for(timetable), keys)],
        "edits": [
            _with_texts(edit, describe_break, describe_edit, timetable)
            for edit in timetable.edits.select_related("by")
        ],
    }


def _with_texts(edit, describe, describe_edit, timetable: Timetable):
    """``edit`` with its stored warnings (codes) and detail rendered for the reader,
    not saved."""
    edit.warning_texts = [describe(item) for item in edit.warnings or []]
    edit.detail_text = describe_edit(
        edit.kind, edit.detail or {}, list(timetable.days), list(timetable.turns)
    )
    return edit
