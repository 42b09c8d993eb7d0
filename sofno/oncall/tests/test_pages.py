import pytest
import time_machine
from django.test import Client

from sofno.oncall import actions
from sofno.oncall.models import BusyEntry, Call, Person, Timetable, TimetableStatus
from sofno.oncall.tests.helpers import BEFORE_WEEK, WEEK, owner_actor, team

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _friday_before():
    with time_machine.travel(BEFORE_WEEK, tick=False):
        yield


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_it_shows_the_week_and_makes_and_publishes_a_draft(cast):
    team(cast, 3)
    agent = client_for(cast.agent)
    page = agent.get(f"/oncall/?week={WEEK}")
    assert page.status_code == 200 and b"No timetable for this week yet" in page.content
    answer = agent.post("/oncall/timetables/generate/", {"week": str(WEEK)}, follow=True)
    draft = Timetable.objects.get()
    assert answer.redirect_chain[-1][0] == f"/oncall/timetables/{draft.public_id}/"
    assert b'id="publish"' in answer.content and b'id="grid"' in answer.content
    agent.post(f"/oncall/timetables/{draft.public_id}/publish/")
    draft.refresh_from_db()
    assert draft.status == TimetableStatus.PUBLISHED
    page = agent.get(f"/oncall/?week={WEEK}")
    assert page.context["timetable"] == draft and b"staff0" in page.content


def test_it_gives_each_person_of_the_week_a_colour_of_their_own(cast):
    team(cast, 3)
    agent = client_for(cast.agent)
    answer = agent.post("/oncall/timetables/generate/", {"week": str(WEEK)}, follow=True)
    legend = answer.context["colours"]
    assert len(legend) >= 2 and len({p["colour"] for p in legend}) == len(legend)
    colour_of = {p["name"]: p["colour"] for p in legend}
    for row in answer.context["rows"]:
        for cell in row["cells"]:
            for person in cell["people"]:
                assert person["colour"] == colour_of[person["name"]]
    first = legend[0]
    assert f'style="background-color: {first["colour"]}; color: {first["ink"]}"'.encode() in (
        answer.content
    )


def test_it_warns_when_an_edit_breaks_a_rule(cast):
    people = team(cast, 2, lines=1)
    draft = actions.generate_draft(acting_user=owner_actor(cast), week=WEEK, time_limit=5)
    on = draft.assignments.get(day=0, turn=0)
    bob = next(p for p in people if p != on.person)
    BusyEntry.objects.create(person=bob, date=WEEK, whole_day=True, reason="course")
    answer = client_for(cast.agent).post(
        f"/oncall/timetables/{draft.public_id}/edit/",
        {
            "kind": "replace",
            "day": 0,
            "turn": on.turn,
            "person": str(on.person.public_id),
            "other_person": str(bob.public_id),
            "reason": "cover",
        },
        follow=True,
    )
    assert any("breaks a rule" in t and "busy (course)" in t for t in texts(answer))
    assert b"cover" in answer.content  # the history lists the change
    missing = client_for(cast.agent).post(
        f"/oncall/timetables/{draft.public_id}/edit/",
        {"kind": "add_line", "day": 0, "turn": 0, "reason": ""},
        follow=True,
    )
    assert any(t.startswith("Reason:") for t in texts(missing))


def test_it_refuses_viewers_outsiders_and_wrong_methods(cast):
    team(cast, 1)
    draft = Timetable.objects.create(
        organization=cast.org, week_start=WEEK, lines=[[1, 1, 1, 1]] * 5
    )
    viewer = client_for(cast.viewer)
    assert viewer.get(f"/oncall/timetables/{draft.public_id}/").status_code == 200
    assert viewer.post("/oncall/timetables/generate/", {"week": str(WEEK)}).status_code == 403
    assert viewer.post(f"/oncall/timetables/{draft.public_id}/publish/").status_code == 403
    outsider = client_for(cast.outsider)
    assert outsider.get(f"/oncall/timetables/{draft.public_id}/").status_code == 404
    assert outsider.post(f"/oncall/timetables/{draft.public_id}/publish/").status_code == 404
    person = Person.objects.get()
    assert outsider.get(f"/oncall/people/{person.public_id}/").status_code == 404
    agent = client_for(cast.agent)
    assert agent.get("/oncall/timetables/generate/").status_code == 405
    assert agent.put("/oncall/people/").status_code == 405
    assert Client().get("/oncall/").status_code == 302  # sign in first
    assert Timetable.objects.count() == 1


def test_it_edits_people_with_clear_errors(cast):
    (ann,) = team(cast, 1)
    owner = client_for(cast.owner)
    member = cast.agent.memberships.get().public_id
    answer = owner.post(
        "/oncall/people/",
        {"member": str(member), "extension": "201", "ideal_load": "6"},
        follow=True,
    )
    assert any("already taken" in t for t in texts(answer))
    answer = owner.post("/oncall/people/", {"member": str(member), "extension": "209"})
    adam = Person.objects.get(user=cast.agent)
    assert answer.url == f"/oncall/people/{adam.public_id}/"
    url = f"/oncall/people/{ann.public_id}/busy/"
    no_turn = owner.post(url, {"date": str(WEEK), "reason": "dentist", "hard": "on"}, follow=True)
    assert any(t.startswith("Turns:") for t in texts(no_turn))
    past = owner.post(
        url, {"date": "2026-11-02", "whole_day": "on", "reason": "late", "hard": "on"}, follow=True
    )
    assert any(t.startswith("Date:") and "past" in t for t in texts(past))
    ok = owner.post(url, {"weekday": "2", "turns": ["1"], "reason": "gym"}, follow=True)
    entry = BusyEntry.objects.get()
    assert entry.weekday == 2 and entry.turns == [1] and entry.hard is False
    assert b"gym" in ok.content
    assert client_for(cast.viewer).post(url, {"weekday": "2", "turns": ["1"]}).status_code == 403
    owner.post(f"/oncall/busy/{entry.public_id}/remove/")
    assert not BusyEntry.objects.exists()


def test_the_screen_pop_shows_the_agents_ringing_call(cast, api_client):
    from sofno.directory.models import Contact, ContactType, Customer

    team(cast, 1)
    staff = Person.objects.get().user
    service, _ = ContactType.objects.get_or_create(
        organization=cast.org, slug="service", defaults={"name": "Service"}
    )
    shop = Customer.objects.create(organization=cast.org, name="Trattoria Da Mario")
    Contact.objects.create(
        organization=cast.org,
        customer=shop,
        name="Mario",
        phone="+390612345678",
        contact_type=service,
    )
    agent = client_for(staff)
    screen = agent.get("/oncall/screen/")
    assert screen.status_code == 200
    assert agent.get("/oncall/screen/poll/?after=").json() == {"call": None}
    api_client(cast.key).post("/calls/ringing", {"phone": "+390612345678", "extension": "201"})
    call = Call.objects.get()
    body = agent.get("/oncall/screen/poll/?after=").json()
    assert body["call"] == str(call.public_id) and "Trattoria Da Mario" in body["html"]
    assert agent.get(f"/oncall/screen/poll/?after={call.public_id}").json() == {"call": None}
    # Another agent's screen stays quiet.
    assert client_for(cast.agent).get("/oncall/screen/poll/").json() == {"call": None}
    agent.post("/oncall/calls/", {"call": str(call.public_id), "note": "till rebooted"})
    call.refresh_from_db()
    assert call.note == "till rebooted"
    log = client_for(cast.viewer).get("/oncall/calls/?phone=%2B390612345678")
    assert b"Trattoria Da Mario" in log.content and b"till rebooted" in log.content


def test_it_exports_and_imports_yaml_all_or_nothing(cast):
    (ann,) = team(cast, 1, desk="help desk")
    BusyEntry.objects.create(person=ann, weekday=2, whole_day=True, reason="visits")
    owner = client_for(cast.owner)
    exported = owner.get("/oncall/yaml/?download=1")
    assert exported["Content-Disposition"].startswith("attachment")
    text = exported.content.decode()
    assert "username: staff0" in text and "weekday: wed" in text
    changed = text.replace("desk: help desk", "desk: field")
    answer = owner.post("/oncall/yaml/", {"text": changed}, follow=True)
    assert any(t.startswith("Imported 1 people") for t in texts(answer))
    ann.refresh_from_db()
    assert ann.desk == "field" and ann.busy_entries.get().weekday == 2
    broken = changed.replace("extension: '201'", "extension: 20x").replace(
        "desk: field", "desk: lost"
    )
    answer = owner.post("/oncall/yaml/", {"text": broken}, follow=True)
    assert any(t.startswith("people[0].extension:") for t in texts(answer))
    ann.refresh_from_db()
    assert ann.desk == "field"  # nothing half-written
    assert client_for(cast.agent).post("/oncall/yaml/", {"text": changed}).status_code == 302


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_it_redirects_only_within_the_site_after_a_call_note(cast, target):
    call = Call.objects.create(organization=cast.org, phone="+390612345678", extension="201")
    agent = client_for(cast.agent)
    form = {"call": str(call.public_id), "note": "x", "next": target}
    answer = agent.post("/oncall/calls/", form)
    assert answer.status_code == 302 and answer["Location"] == "/oncall/calls/"
    inside = agent.post(
        "/oncall/calls/", {"call": str(call.public_id), "note": "y", "next": "/oncall/screen/"}
    )
    assert inside["Location"] == "/oncall/screen/"
