"""The next published turn after a moment: the dashboard's "on call next"."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sofno.oncall.models import Timetable, TimetableStatus
from sofno.oncall.selectors import next_turn, turn_at

ROME = ZoneInfo("Europe/Rome")  # the cast's organization's timezone
MONDAY = dt.date(2026, 11, 23)


def _publish(cast, week: dt.date, days: list[int]) -> Timetable:
    return Timetable.objects.create(
        organization=cast.org,
        week_start=week,
        turns=["09:00-13:00", "14:00-18:00"],
        days=days,
        lines=[[1, 1]] * len(days),
        status=TimetableStatus.PUBLISHED,
    )


def test_it_finds_the_next_turn_of_the_day_then_of_the_next_week(cast):
    _publish(cast, MONDAY, [0, 1])
    later = _publish(cast, MONDAY + dt.timedelta(days=7), [2])
    during = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ROME)
    assert turn_at(cast.org, during).turn == 0
    coming = next_turn(cast.org, during)
    assert (coming.day, coming.turn) == (0, 1)
    assert coming.start == dt.datetime(2026, 11, 23, 14, 0, tzinfo=ROME)
    # After Tuesday's last turn the next is the following week's Wednesday.
    evening = dt.datetime(2026, 11, 24, 19, 0, tzinfo=ROME)
    coming = next_turn(cast.org, evening)
    assert coming.timetable == later
    assert coming.start == dt.datetime(2026, 12, 2, 9, 0, tzinfo=ROME)


def test_it_ignores_drafts_and_has_nothing_without_a_published_week(cast):
    draft = _publish(cast, MONDAY, [0])
    draft.status = TimetableStatus.DRAFT
    draft.save(update_fields=["status"])
    assert next_turn(cast.org, dt.datetime(2026, 11, 23, 8, 0, tzinfo=ROME)) is None
