"""Tomatic's rules as settings, the soft weekly target and the week's picture, end to end."""

import datetime as dt

import pytest
import time_machine
import yaml
from django.core.exceptions import ValidationError
from django.test import Client

from sofno.core.testing import field_errors
from sofno.oncall import actions, yamlio
from sofno.oncall.models import BusyEntry, OncallSettings, Timetable
from sofno.oncall.planning import build_problem, grid_of, problem_for
from sofno.oncall.selectors import timetable_data
from sofno.oncall.tests.helpers import BEFORE_WEEK, WEEK, owner_actor, team

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _friday_before():
    with time_machine.travel(BEFORE_WEEK, tick=False):
        yield


def test_it_fills_a_week_whose_targets_add_up_to_fewer_turns_than_its_lines(cast, api_client):
    # 2 days x 2 turns x 1 line = 4 lines. Ann is busy all Tuesday, so her target is
    # scaled to 1 (ideal 2 x 1/2 days): targets add up to 3. Her maximum is still her
    # ideal load (2), and Monday has room for both her turns: all 4 lines are filled.
    ann, bob = team(cast, 2, lines=1, ideal_load=2, max_per_day=2)
    BusyEntry.objects.create(
        person=ann, date=WEEK + dt.timedelta(days=1), whole_day=True, reason="x"
    )
    draft = actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)
    report = draft.report
    assert report["empty_lines"] == 0 and report["optimal"]
    people = report["people"]
    assert (people[str(ann.public_id)]["target"], people[str(ann.public_id)]["maximum"]) == (1, 2)
    assert grid_of(draft)[0] == [[str(ann.public_id)], [str(ann.public_id)]]
    assert report["summary"][0] == {
        "code": "targets_vs_lines",
        "targets": 3,
        "maxima": 4,
        "lines": 4,
        "filled": 4,
    }
    shown = api_client(cast.key).get(f"/oncall/timetables/{draft.public_id}").json()["report"]
    assert shown["summary_text"][0].startswith("The week's targets add up to 3 turns for 4 lines")
    assert "1 person takes turns above their target" in shown["summary_text"][1]
    assert people[str(ann.public_id)]["overload"] == report["weights"]["overload"]
    owner = Client()
    owner.force_login(cast.owner)
    page = owner.get(f"/oncall/timetables/{draft.public_id}/").content.decode()
    assert "The week&#x27;s targets add up to 3 turns for 4 lines" in page
    assert "1 person takes turns above their target" in page
    assert "the best possible week (proven)" in page and ">optimal<" not in page
    assert bob.public_id


def test_it_schedules_nobody_on_the_organizations_holidays(cast):
    (ann,) = team(cast, 1, lines=1, ideal_load=4)
    conf = OncallSettings.for_org(cast.org)
    conf.closed_days = [WEEK.isoformat()]
    conf.save()
    problem, meta = build_problem(cast.org, WEEK)
    assert problem.lines == [[0, 0], [1, 1]]
    key = str(ann.public_id)
    assert (meta[key]["days_worked"], meta[key]["due"], meta[key]["target"]) == (1, 2.0, 2)
    draft = actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)
    assert draft.lines[0] == [0, 0] and not draft.assignments.filter(day=0).exists()
    assert draft.report["empty_lines"] == 0


def test_it_keeps_the_rules_a_draft_was_made_under(cast):
    team(cast, 3, lines=2, ideal_load=4, desk="help desk")
    actions.update_settings(
        acting_user=owner_actor(cast), fields={"max_per_desk": 1, "no_split_days": True}
    )
    draft = actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)
    assert draft.report["rules"] == {"max_per_desk": 1, "no_split": True, "max_empty": None}
    assert all(len(cell) == 1 for row in grid_of(draft) for cell in row)  # one desk, cap 1
    actions.update_settings(acting_user=owner_actor(cast), fields={"max_per_desk": None})
    assert problem_for(draft).max_per_desk == 1  # a changed setting never rewrites old weeks
    text = timetable_data(draft)["report"]["unfilled"][0]["text"]
    assert "2 people whose desk is at its cap" in text


def test_it_refuses_a_draft_no_week_can_make_and_stores_nothing(cast, api_client):
    team(cast, 1, lines=2)
    api = api_client(cast.key)
    assert api.patch("/oncall/settings", {"max_empty_per_turn": 0}).status_code == 200
    answer = api.post("/oncall/timetables", {"week": WEEK.isoformat(), "time_limit": 5})
    assert answer.status_code == 422
    assert field_errors(answer) == {"max_empty_per_turn": "infeasible"}
    assert not Timetable.objects.exists()
    with pytest.raises(ValidationError):
        actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)


def test_it_reads_and_changes_the_rules_through_the_api(cast, api_client):
    api = api_client(cast.key)
    body = api.get("/oncall/settings").json()
    assert (body["max_overload"], body["max_per_desk"], body["no_split_days"]) == (0, None, False)
    assert (body["max_empty_per_turn"], body["closed_days"]) == (None, [])
    change = {
        "max_overload": 2,
        "max_per_desk": 2,
        "no_split_days": True,
        "max_empty_per_turn": 1,
        "closed_days": ["2026-12-25", "2026-12-24"],
    }
    answer = api.patch("/oncall/settings", change)
    assert answer.status_code == 200, answer.content
    assert answer.json()["closed_days"] == ["2026-12-24", "2026-12-25"]
    conf = OncallSettings.for_org(cast.org)
    assert (conf.max_overload, conf.max_per_desk, conf.no_split_days) == (2, 2, True)
    answer = api.patch("/oncall/settings", {"max_per_desk": None})
    assert answer.json()["max_per_desk"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"max_per_desk": 0}, "max_per_desk"),
        ({"max_overload": -1}, "max_overload"),
        ({"max_empty_per_turn": 101}, "max_empty_per_turn"),
        ({"closed_days": ["2026-13-01"]}, "closed_days"),
        ({"closed_days": ["2026-12-25", "2026-12-25"]}, "closed_days"),
        ({"max_overload": None}, "max_overload"),
        ({"no_split_days": None}, "no_split_days"),
    ],
)
def test_it_names_the_field_of_a_bad_rule(cast, api_client, change, field):
    answer = api_client(cast.key).patch("/oncall/settings", change)
    assert answer.status_code == 422, answer.content
    assert any(name.split(".")[0] == field for name in field_errors(answer))
    conf = OncallSettings.for_org(cast.org)
    assert (conf.max_overload, conf.max_per_desk, conf.closed_days) == (0, None, [])


def test_it_edits_the_rules_on_the_settings_page(cast):
    owner = Client()
    owner.force_login(cast.owner)
    page = owner.get("/oncall/settings/")
    assert b'id="max_per_desk"' in page.content and b"Turn above target" in page.content
    conf = OncallSettings.for_org(cast.org)
    form = {
        "turns": ", ".join(conf.turns),
        "days": ["0", "1"],
        "lines": "3",
        "lunch_pairs": "",
        "time_budget": "10",
        "max_overload": "1",
        "max_per_desk": "2",
        "max_empty_per_turn": "",
        "no_split_days": "on",
        "closed_days": "2026-12-25, 2027-01-01",
        "weight_overload": "70",
    }
    owner.post("/oncall/settings/", form)
    conf.refresh_from_db()
    assert (conf.max_overload, conf.max_per_desk, conf.max_empty_per_turn) == (1, 2, None)
    assert conf.no_split_days and conf.closed_days == ["2026-12-25", "2027-01-01"]
    assert conf.weights["overload"] == 70
    answer = owner.post("/oncall/settings/", {**form, "closed_days": "Christmas"}, follow=True)
    holidays = "Organization holidays (nobody scheduled): enter a date like 2026-11-23"
    assert holidays in [str(m) for m in answer.context["messages"]]
    answer = owner.post("/oncall/settings/", {**form, "max_per_desk": "0"}, follow=True)
    assert any(
        str(m).startswith("People of one desk per turn: ") for m in answer.context["messages"]
    )
    conf.refresh_from_db()
    assert conf.closed_days == ["2026-12-25", "2027-01-01"]


def test_it_moves_the_rules_in_and_out_as_yaml(cast):
    actions.update_settings(
        acting_user=owner_actor(cast),
        fields={"max_per_desk": 2, "no_split_days": True, "closed_days": ["2026-12-25"]},
    )
    exported = yaml.safe_load(yamlio.export_yaml(cast.org))["settings"]
    assert exported["max_per_desk"] == 2 and exported["closed_days"] == ["2026-12-25"]
    assert exported["no_split_days"] is True and exported["max_overload"] == 0
    document = (
        "settings:\n  max_overload: 3\n  max_empty_per_turn: 1\n  closed_days: [2027-01-01]\n"
    )
    yamlio.import_yaml(acting_user=owner_actor(cast), text=document)
    conf = OncallSettings.for_org(cast.org)
    assert (conf.max_overload, conf.max_empty_per_turn) == (3, 1)
    assert conf.closed_days == ["2027-01-01"] and conf.max_per_desk == 2
