import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from sofno.events.models import Event
from sofno.oncall import actions, on_call_at
from sofno.oncall.models import BusyEntry, EditKind, Holiday, Timetable, TimetableStatus
from sofno.oncall.planning import build_problem, carry_before, grid_of
from sofno.oncall.selectors import timetable_data
from sofno.oncall.tests.helpers import BEFORE_WEEK, WEEK, owner_actor, team

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _friday_before():
    with time_machine.travel(BEFORE_WEEK, tick=False):
        yield


def test_it_builds_the_week_from_availability(cast):
    ann, bob, cat = team(cast, 3)
    Holiday.objects.create(person=ann, start=WEEK, end=WEEK, reason="off")
    BusyEntry.objects.create(person=bob, weekday=1, turns=[0], reason="meeting")
    BusyEntry.objects.create(person=cat, date=WEEK, turns=[1], hard=False, reason="prefers not")
    problem, meta = build_problem(cast.org, WEEK)
    specs = {p.key: p for p in problem.people}
    a, b, c = (specs[str(p.public_id)] for p in (ann, bob, cat))
    assert a.holidays == {0} and meta[a.key]["days_worked"] == 1
    assert meta[a.key]["due"] == 2.0 and a.target == 2  # 4 turns a week, half the week
    assert b.busy == {(1, 0): "meeting"} and b.target == 3  # capped: one turn is busy
    assert c.soft == {(0, 1): "prefers not"} and c.busy == {}


def test_it_drafts_and_publishes_and_answers_who_is_on_call(cast):
    _ann, _bob = team(cast, 2, lines=1)
    seen = []
    draft = actions.generate_draft(
        acting_user=owner_actor(cast),
        week=WEEK + dt.timedelta(days=2),
        time_limit=5,
        progress=lambda *a: seen.append(a),
    )
    assert draft.week_start == WEEK and draft.status == TimetableStatus.DRAFT
    assert draft.report["optimal"] is True and draft.report["empty_lines"] == 0
    assert seen, "the progress callback saw at least one timetable"
    monday_9 = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)  # 10:30 in Rome
    assert on_call_at(cast.org, monday_9) == []  # a draft is not current
    actions.publish(acting_user=owner_actor(cast), timetable=draft)
    expected = grid_of(draft)[0][0]
    assert [str(u.oncall_people.get().public_id) for u in on_call_at(cast.org, monday_9)] == (
        expected
    )
    assert on_call_at(cast.org, dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.UTC)) == []
    assert Event.objects.filter(type="oncall.timetable.published").count() == 1


def test_it_supersedes_the_previous_published_week(cast):
    team(cast, 2, lines=1)
    first = actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)
    actions.publish(acting_user=owner_actor(cast), timetable=first)
    second = actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)
    actions.publish(acting_user=owner_actor(cast), timetable=second)
    first.refresh_from_db()
    assert first.status == TimetableStatus.SUPERSEDED
    with pytest.raises(ValidationError, match="only a draft"):
        actions.publish(acting_user=owner_actor(cast), timetable=first)


def test_it_carries_a_deficit_into_the_next_week(cast):
    # One turn a day over two days: only 2 of the 4 turns due can be taken.
    (ann,) = team(cast, 1, lines=1, ideal_load=4, max_per_day=1)
    week1 = actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)
    actions.publish(acting_user=owner_actor(cast), timetable=week1)
    assert week1.assignments.count() == 2
    next_week = WEEK + dt.timedelta(days=7)
    assert carry_before([ann], next_week) == {str(ann.public_id): 2.0}
    problem, meta = build_problem(cast.org, next_week)
    assert meta[str(ann.public_id)]["carry"] == 2.0
    assert problem.people[0].target == 2  # due 4 + 2 owed, capped by what 2 days hold


def test_it_counts_a_whole_busy_day_as_a_day_off(cast):
    (ann,) = team(cast, 1, lines=1, ideal_load=4)
    BusyEntry.objects.create(person=ann, date=WEEK, whole_day=True, reason="course")
    week1 = actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)
    actions.publish(acting_user=owner_actor(cast), timetable=week1)
    report = week1.report["people"][str(ann.public_id)]
    assert (report["days_worked"], report["due"], report["assigned"]) == (1, 2.0, 2)
    assert carry_before([ann], WEEK + dt.timedelta(days=7)) == {str(ann.public_id): 0.0}


def test_it_swaps_replaces_and_changes_lines_with_history_and_warnings(cast):
    _ann, _bob, cat = team(cast, 3, lines=1, ideal_load=2, max_per_day=1)
    actor = owner_actor(cast)
    draft = actions.generate_draft(acting_user=actor, week=WEEK, time_limit=5)
    grid = grid_of(draft)
    first_key = grid[0][0][0]
    other = next(k for d in range(2) for t in range(2) for k in grid[d][t] if k != first_key)
    other_slot = next((d, t) for d in range(2) for t in range(2) if other in grid[d][t])
    edit = actions.swap(
        acting_user=actor,
        timetable=draft,
        first=(first_key, 0, 0),
        second=(other, *other_slot),
        reason="dentist",
    )
    after = grid_of(draft)
    assert after[0][0] == [other] and first_key in after[other_slot[0]][other_slot[1]]
    assert edit.kind == EditKind.SWAP and edit.by == cast.owner
    # Put someone busy on a turn: the edit is kept, with the broken rule as a warning.
    BusyEntry.objects.create(person=cat, date=WEEK, whole_day=True, reason="course")
    cat_key = str(cat.public_id)
    turn, on_monday = next(
        (t, cell[0]) for t, cell in enumerate(grid_of(draft)[0]) if cell and cell[0] != cat_key
    )
    edit = actions.replace(
        acting_user=actor,
        timetable=draft,
        day=0,
        turn=turn,
        old_person=on_monday,
        new_person=cat.public_id,
        reason="cover",
    )
    assert grid_of(draft)[0][turn] == [cat_key]
    assert any(w["code"] == "busy" and w["reason"] == "course" for w in edit.warnings)
    shown = timetable_data(draft)
    assert any(text.endswith("is busy (course)") for text in shown["warnings"])
    assert any(
        text.endswith("is busy (course)") for e in shown["edits"] for text in e.warning_texts
    )
    edit = actions.add_line(acting_user=actor, timetable=draft, day=1, turn=1, reason="busy day")
    draft.refresh_from_db()
    assert draft.lines[1][1] == 2 and edit.warnings == []
    with pytest.raises(ValidationError) as caught:
        actions.remove_line(acting_user=actor, timetable=draft, day=0, turn=0, reason="quiet")
    assert "person" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        actions.add_line(acting_user=actor, timetable=draft, day=0, turn=0, reason=" ")
    assert "reason" in caught.value.message_dict
    assert draft.edits.count() >= 3


def test_it_refuses_busy_entries_that_make_no_sense(cast):
    (ann,) = team(cast, 1)
    actor = owner_actor(cast)
    for fields, field in [
        ({"date": WEEK, "reason": "x"}, "turns"),  # neither whole day nor a turn
        ({"date": dt.date(2026, 11, 1), "whole_day": True, "reason": "x"}, "date"),  # past
        ({"date": WEEK, "weekday": 1, "whole_day": True, "reason": "x"}, "date"),
        ({"weekday": 1, "turns": [7], "reason": "x"}, "turns"),  # no such turn
    ]:
        with pytest.raises(ValidationError) as caught:
            actions.add_busy(acting_user=actor, person=ann, fields=fields)
        assert field in caught.value.message_dict, fields
    assert not BusyEntry.objects.exists()


def test_it_refuses_an_extension_taken_twice(cast):
    _ann, bob = team(cast, 2)
    with pytest.raises(ValidationError) as caught:
        actions.update_person(
            acting_user=owner_actor(cast), person=bob, fields={"extension": "201"}
        )
    assert "already taken" in str(caught.value)
    assert Timetable.objects.count() == 0
