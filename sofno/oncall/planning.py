"""From the database to a solver :class:`Problem` and back.

A person's solver key is their public id as text, so reports stored with a
timetable stay readable after people are renamed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, Q

from sofno.core.models import Organization
from sofno.core.usernames import sign_in_name_expression
from sofno.oncall.models import (
    Assignment,
    BusyEntry,
    Holiday,
    OncallSettings,
    Person,
    Timetable,
    TimetableStatus,
)
from sofno.oncall.solver import (
    PersonSpec,
    Problem,
    Weights,
    day_capacity,
    weekly_maximum,
    weekly_target,
)
from sofno.oncall.turns import DAY_LABELS, parse_turns

# How far back a person's deficit or excess keeps counting.
CARRY_WEEKS = 8


def monday_of(day: dt.date) -> dt.date:
    """The Monday starting ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def people_of(organization: Organization) -> list[Person]:
    return list(
        Person.objects.filter(organization=organization, active=True)
        .select_related("user")
        .order_by(sign_in_name_expression("user__username"))
    )


def carry_before(people: Iterable[Person], week_start: dt.date) -> dict[str, float]:
    """Each person's balance from published weeks before ``week_start``.

    The balance is what those weeks asked of them (due) minus what they took; a
    positive balance raises this week's target, a negative one lowers it.
    """
    people = list(people)
    balance = {str(p.public_id): 0.0 for p in people}
    if not people:
        return balance
    organization_id = people[0].organization_id
    weeks = list(
        Timetable.objects.filter(
            organization_id=organization_id,
            status=TimetableStatus.PUBLISHED,
            week_start__lt=week_start,
            week_start__gte=week_start - dt.timedelta(weeks=CARRY_WEEKS),
        ).annotate(n=Count("assignments"))
    )
    taken = {
        (row["timetable_id"], str(row["person__public_id"])): row["n"]
        for row in Assignment.objects.filter(timetable__in=weeks)
        .values("timetable_id", "person__public_id")
        .annotate(n=Count("id"))
    }
    for week in weeks:
        for key, info in (week.report.get("people") or {}).items():
            if key in balance:
                balance[key] += float(info.get("due", 0.0)) - taken.get((week.id, key), 0)
    return balance


def availability(
    person: Person, dates: list[dt.date], n_turns: int, holidays: list[Holiday], busy: list
) -> tuple[set[int], dict, dict]:
    """Day indexes on holiday, and hard and soft busy slots with their reasons."""
    off = {d for d, day in enumerate(dates) for h in holidays if h.covers(day)}
    hard: dict[tuple[int, int], str] = {}
    soft: dict[tuple[int, int], str] = {}
    for d, day in enumerate(dates):
        for t in range(n_turns):
            for entry in busy:
                if entry.applies(day, t):
                    (hard if entry.hard else soft).setdefault((d, t), entry.reason)
    return off, hard, soft


def build_problem(
    organization: Organization,
    week_start: dt.date,
    *,
    turns: list[str] | None = None,
    days: list[int] | None = None,
    lines: list[list[int]] | None = None,
    lunch_pairs: list | None = None,
    targets: dict[str, int] | None = None,
    maxima: dict[str, int] | None = None,
    rules: dict | None = None,
) -> tuple[Problem, dict[str, dict]]:
    """The week's problem and, per person, how their target was reached.

    - The layout (turns, days, lines, lunch pairs) and the rules (desk cap, no split
      days, empty-line cap) come from the organization's settings unless given (an
      existing timetable passes its own snapshot).
    - On the organization's closed days (holidays for everyone) every turn has 0
      lines and nobody's load counts that day.
    - ``targets`` and ``maxima`` override the computed weekly targets and maxima (a
      published week keeps its own).
    """
    conf = OncallSettings.for_org(organization)
    rules = rules if rules is not None else rules_of(conf)
    turns = list(turns if turns is not None else conf.turns)
    days = sorted(days if days is not None else conf.days)
    ranges = parse_turns(turns)
    dates = [week_start + dt.timedelta(days=d) for d in days]
    closed_dates = {dt.date.fromisoformat(day) for day in conf.closed_days or []}
    closed = {d for d, day in enumerate(dates) if day in closed_dates}
    if lines is None:
        lines = [[0 if d in closed else conf.lines] * len(ranges) for d in range(len(days))]
    else:
        closed = {d for d, row in enumerate(lines) if not any(row)}
    lunch = [tuple(p) for p in (lunch_pairs if lunch_pairs is not None else conf.lunch_pairs)]
    no_split = bool(rules.get("no_split"))
    people = people_of(organization)
    holidays: dict[int, list[Holiday]] = {}
    for h in Holiday.objects.filter(person__in=people, start__lte=dates[-1], end__gte=dates[0]):
        holidays.setdefault(h.person_id, []).append(h)
    busy: dict[int, list[BusyEntry]] = {}
    for entry in BusyEntry.objects.filter(person__in=people).filter(
        Q(weekday__isnull=False) | Q(date__gte=dates[0], date__lte=dates[-1])
    ):
        busy.setdefault(entry.person_id, []).append(entry)
    carry = carry_before(people, week_start)
    specs, meta = [], {}
    for person in people:
        key = str(person.public_id)
        off, hard, soft = availability(
            person, dates, len(ranges), holidays.get(person.id, []), busy.get(person.id, [])
        )
        capacity = sum(
            day_capacity(
                [t for t in range(len(ranges)) if (d, t) not in hard],
                person.max_per_day,
                lunch,
                no_split=no_split,
            )
            for d in range(len(days))
            if d not in off and d not in closed
        )
        # A day with every turn hard-busy is a day off too: it shrinks what is due
        # instead of running up a debt the person could never have avoided; so does
        # a day the whole organization is closed.
        days_off = (
            off
            | closed
            | {d for d in range(len(days)) if all((d, t) in hard for t in range(len(ranges)))}
        )
        due, target = weekly_target(
            person.ideal_load, len(days) - len(days_off), len(days), carry[key], capacity
        )
        if targets is not None and key in targets:
            target = targets[key]
        # The hard limit is the real maximum, not the scaled target: a week whose
        # targets add up to fewer turns than its lines still fills them.
        maximum = weekly_maximum(person.ideal_load, conf.max_overload, target, capacity)
        if maxima is not None and key in maxima:
            maximum = maxima[key]
        specs.append(
            PersonSpec(
                key=key,
                name=person.name,
                target=target,
                max_per_day=person.max_per_day,
                desk=person.desk,
                holidays=off,
                busy=hard,
                soft=soft,
                limit=maximum,
            )
        )
        meta[key] = {
            "name": person.name,
            "due": round(due, 3),
            "carry": round(carry[key], 3),
            "capacity": capacity,
            "target": target,
            "maximum": maximum,
            "days_worked": len(days) - len(days_off),
        }
    problem = Problem(
        days=[DAY_LABELS[d] for d in days],
        turns=[r.label for r in ranges],
        lines=[list(row) for row in lines],
        people=specs,
        lunch_pairs=lunch,
        weights=Weights.from_dict(conf.weights),
        max_per_desk=rules.get("max_per_desk"),
        no_split=no_split,
        max_empty=rules.get("max_empty"),
    )
    return problem, meta


def rules_of(conf: OncallSettings) -> dict:
    """The optional hard rules a draft is made under (stored in its report)."""
    return {
        "max_per_desk": conf.max_per_desk,
        "no_split": conf.no_split_days,
        "max_empty": conf.max_empty_per_turn,
    }


def problem_for(timetable: Timetable) -> Problem:
    """The rules ``timetable`` must keep: its own layout and stored targets."""
    people = timetable.report.get("people") or {}
    targets = {key: int(info["target"]) for key, info in people.items() if "target" in info}
    maxima = {key: int(info["maximum"]) for key, info in people.items() if "maximum" in info}
    # A week drafted before weekly maxima existed had its target as the hard limit.
    maxima.update({key: targets[key] for key in targets if key not in maxima})
    problem, _ = build_problem(
        timetable.organization,
        timetable.week_start,
        turns=timetable.turns,
        days=timetable.days,
        lines=timetable.lines,
        lunch_pairs=timetable.lunch_pairs,
        targets=targets,
        maxima=maxima,
        rules=timetable.report.get("rules") or {},
    )
    # Someone who joined after the draft was made gets this week's computed target.
    return problem


def grid_of(timetable: Timetable) -> list[list[list[str]]]:
    """``grid[day][turn]`` of person keys, from the timetable's assignments."""
    grid: list[list[list[str]]] = [[[] for _ in timetable.turns] for _ in timetable.days]
    rows = timetable.assignments.select_related("person").order_by(
        sign_in_name_expression("person__user__username")
    )
    for row in rows:
        if row.day < len(grid) and row.turn < len(grid[row.day]):
            grid[row.day][row.turn].append(str(row.person.public_id))
    return grid
