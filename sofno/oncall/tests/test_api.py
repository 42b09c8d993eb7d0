import pytest
import time_machine

from sofno.core.models import Membership
from sofno.core.testing import field_errors
from sofno.oncall.models import BusyEntry, Call, Person, Timetable
from sofno.oncall.tests.helpers import BEFORE_WEEK, WEEK, team

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _friday_before():
    with time_machine.travel(BEFORE_WEEK, tick=False):
        yield


def member_id(cast, user):
    return str(Membership.objects.get(organization=cast.org, user=user).public_id)


def test_it_creates_lists_and_changes_people(cast, api_client):
    api = api_client(cast.key)
    answer = api.post(
        "/oncall/people",
        {"member": member_id(cast, cast.agent), "extension": "201", "desk": "help desk"},
    )
    assert answer.status_code == 201, answer.content
    person_id = answer.json()["id"]
    assert answer.json()["username"] == "adam"
    answer = api.patch(f"/oncall/people/{person_id}", {"ideal_load": 6})
    assert answer.status_code == 200 and answer.json()["ideal_load"] == 6
    assert [p["extension"] for p in api.get("/oncall/people").json()] == ["201"]
    assert api.delete(f"/oncall/people/{person_id}").status_code == 204
    assert not Person.objects.exists()


def test_it_refuses_an_extension_taken_twice(cast, api_client):
    api = api_client(cast.key)
    api.post("/oncall/people", {"member": member_id(cast, cast.agent), "extension": "201"})
    answer = api.post("/oncall/people", {"member": member_id(cast, cast.owner), "extension": "201"})
    assert answer.status_code == 422
    assert answer.json()["code"] == "validation_error"
    assert "extension" in answer.json()["message"] or "__all__" in field_errors(answer)
    assert Person.objects.count() == 1
    answer = api.post("/oncall/people", {"member": member_id(cast, cast.owner), "extension": "2a"})
    assert field_errors(answer) == {"extension": "string_pattern_mismatch"}


def test_it_adds_and_removes_busy_entries_with_clear_errors(cast, api_client):
    (ann,) = team(cast, 1)
    api = api_client(cast.key)
    url = f"/oncall/people/{ann.public_id}/busy"
    answer = api.post(url, {"weekday": "wed", "turns": [1], "hard": False, "reason": "gym"})
    assert answer.status_code == 201 and answer.json()["weekday"] == 2
    no_turn = api.post(url, {"date": str(WEEK), "reason": "dentist"})
    assert no_turn.status_code == 422 and "at least one turn" in no_turn.json()["message"]
    past = api.post(url, {"date": "2026-11-01", "whole_day": True, "reason": "late"})
    assert field_errors(past) == {"date": "past"}
    assert BusyEntry.objects.count() == 1
    busy_id = answer.json()["id"]
    assert api_client(cast.other_key).delete(f"/oncall/busy/{busy_id}").status_code == 404
    assert api_client(cast.readonly_key).delete(f"/oncall/busy/{busy_id}").status_code == 403
    assert api.delete(f"/oncall/busy/{busy_id}").status_code == 204
    holiday = api.post(
        f"/oncall/people/{ann.public_id}/holidays", {"start": str(WEEK), "end": "2026-11-22"}
    )
    assert holiday.status_code == 422 and "before the first day" in holiday.json()["message"]


def test_it_drafts_publishes_edits_and_says_who_is_on_call(cast, api_client):
    ann, bob, cat = team(cast, 3, lines=1, ideal_load=2, max_per_day=1)
    api = api_client(cast.key)
    answer = api.post("/oncall/timetables", {"week": "2026-11-25", "time_limit": 5})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["week_start"] == str(WEEK) and body["status"] == "draft"
    assert body["report"]["optimal"] and body["days"] == ["Mon", "Tue"]
    timetable_id = body["id"]
    assert api.post(f"/oncall/timetables/{timetable_id}/publish").json()["status"] == "published"
    on_turn = body["grid"][0][0][0]
    other = next(p for p in (ann, bob, cat) if str(p.public_id) != on_turn["id"])
    edit = api.post(
        f"/oncall/timetables/{timetable_id}/edits",
        {
            "kind": "replace",
            "day": 0,
            "turn": 0,
            "person": on_turn["id"],
            "new_person": str(other.public_id),
            "reason": "swap for a doctor visit",
        },
    )
    assert edit.status_code == 201, edit.content
    assert edit.json()["grid"][0][0][0]["id"] == str(other.public_id)
    assert edit.json()["edits"][0]["reason"] == "swap for a doctor visit"
    now = api.get("/oncall/now?at=2026-11-23T08:30:00Z").json()
    assert now["turn"] == "09:00-11:00" and [p["id"] for p in now["people"]] == [
        str(other.public_id)
    ]
    bad = api.post(f"/oncall/timetables/{timetable_id}/edits", {"kind": "swap", "reason": "x"})
    assert bad.status_code == 422 and "first and second" in bad.json()["message"]
    naive = api.get("/oncall/now?at=2026-11-23T08:30:00")
    assert field_errors(naive) == {"at": "timezone"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/oncall/timetables", {"week": "2026-11-23"}),
        ("post", "/oncall/people/{person}/busy", {"weekday": "mon", "turns": [0], "reason": "x"}),
        ("patch", "/oncall/people/{person}", {"desk": "x"}),
        ("post", "/oncall/timetables/{timetable}/publish", None),
        ("post", "/calls/ringing", {"phone": "+390612345678", "extension": "201"}),
    ],
)
def test_it_refuses_read_only_keys_and_other_organizations(cast, api_client, method, path, body):
    (ann,) = team(cast, 1)
    timetable = Timetable.objects.create(
        organization=cast.org, week_start=WEEK, lines=[[1, 1, 1, 1]] * 5
    )
    url = path.format(person=ann.public_id, timetable=timetable.public_id)
    answer = getattr(api_client(cast.readonly_key), method)(url, body)
    assert answer.status_code == 403 and answer.json()["code"] in {"forbidden", "read_only"}
    if "{" in path:
        answer = getattr(api_client(cast.other_key), method)(url, body)
        assert answer.status_code == 404
    assert Timetable.objects.count() == 1 and not Call.objects.exists()


def test_it_answers_405_to_a_wrong_method(cast, api_client):
    api = api_client(cast.key)
    assert api.put("/oncall/people", {}).status_code == 405
    assert api.delete("/calls/ringing").status_code == 405
    assert api.post("/callinfo?phone=%2B390612345678").status_code == 405


def test_it_shows_other_organizations_nothing(cast, api_client):
    team(cast, 2)
    Timetable.objects.create(organization=cast.org, week_start=WEEK, lines=[[1, 1, 1, 1]] * 5)
    other = api_client(cast.other_key)
    assert other.get("/oncall/people").json() == []
    assert other.get("/oncall/timetables").json() == []
    readonly = api_client(cast.readonly_key)
    assert len(readonly.get("/oncall/people").json()) == 2


def test_the_api_needs_a_key(api_client, cast):
    assert api_client(None).get("/oncall/people").status_code == 401
    assert (
        api_client(None).post("/calls/ringing", {"phone": "+1", "extension": "1"}).status_code
        == 401
    )


def test_it_keeps_notes_on_calls(cast, api_client):
    team(cast, 1)
    api = api_client(cast.key)
    call = api.post("/calls/ringing", {"phone": "+390612345678", "extension": "201"}).json()
    assert call["taken_by"] == "staff0"
    answer = api.patch(f"/calls/{call['id']}", {"note": "printer jam, fixed"})
    assert answer.json()["note"] == "printer jam, fixed"
    assert (
        api_client(cast.other_key).patch(f"/calls/{call['id']}", {"note": "x"}).status_code == 404
    )
    assert api.get("/calls").json()[0]["note"] == "printer jam, fixed"
    unknown = api.post("/calls/ringing", {"phone": "+390612345678", "extension": "999"})
    assert field_errors(unknown) == {"extension": "unknown"}
    bad_phone = api.post("/calls/ringing", {"phone": "0612345678", "extension": "201"})
    assert bad_phone.status_code == 422 and "E.164" in bad_phone.json()["message"]
    assert Call.objects.count() == 1
