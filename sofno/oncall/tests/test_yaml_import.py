"""``sofno oncall import``: what it keeps, what it refuses, and that a refusal
leaves the database exactly as it was."""

from __future__ import annotations

import io

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from sofno.core.models import AuditEntry, Membership
from sofno.events.models import Event
from sofno.oncall import yamlio
from sofno.oncall.models import BusyEntry, Holiday, OncallSettings, Person, Timetable
from sofno.oncall.tests.helpers import owner_actor, team

pytestmark = pytest.mark.django_db


def load(cast, doc: dict, **options) -> dict:
    return yamlio.import_yaml(acting_user=owner_actor(cast), text=yaml.safe_dump(doc), **options)


def snapshot(cast) -> tuple:
    """Everything an import may touch, for "unchanged" comparisons."""
    return (
        yaml.safe_dump(yamlio.export_data(cast.org)),
        sorted(get_user_model().objects.values_list("username", "email", "first_name")),
        sorted(Membership.objects.values_list("organization_id", "user__username", "role")),
        sorted(Person.objects.values_list("pk", "extension", "ideal_load", "desk")),
        BusyEntry.objects.count(),
        Holiday.objects.count(),
        Timetable.objects.count(),
        Event.objects.count(),
        AuditEntry.objects.count(),
    )


@pytest.fixture
def people(cast):
    """staff0 (201) with a busy Wednesday and a holiday, staff1 (202), staff2 (203)."""
    found = team(cast, 3, desk="help desk")
    BusyEntry.objects.create(person=found[0], weekday=2, whole_day=True, reason="visits")
    Holiday.objects.create(person=found[0], start="2026-12-24", end="2027-01-06")
    return found


def refused(cast, doc: dict, message: str, **options) -> dict:
    """Import ``doc``, expect a refusal matching ``message``, prove nothing changed."""
    before = snapshot(cast)
    with pytest.raises(ValidationError) as caught:
        load(cast, doc, **options)
    errors = caught.value.message_dict
    assert any(message in text for texts in errors.values() for text in texts), errors
    assert snapshot(cast) == before
    return errors


def test_it_refuses_a_username_listed_twice(cast, people):
    doc = {
        "settings": {"lines": 5},
        "people": [
            {"username": "staff0", "extension": "301"},
            {"username": "staff1"},
            {"username": "staff0", "extension": "302"},
        ],
    }
    errors = refused(cast, doc, "'staff0' is listed twice (also people[0])")
    assert list(errors) == ["people[2].username"]


def test_it_names_who_holds_a_clashing_extension(cast, people):
    people[1].user.first_name, people[1].user.last_name = "Marco", "Bianchi"
    people[1].user.save()
    doc = {"people": [{"username": "staff0", "ideal_load": 6, "extension": "202"}]}
    errors = refused(cast, doc, "extension 202 is taken by staff1 (Marco Bianchi)")
    assert list(errors) == ["people[0].extension"]


def test_it_names_the_first_of_two_listed_people_with_one_extension(cast, people):
    doc = {
        "people": [
            {"username": "staff0", "extension": "250"},
            {"username": "staff1", "extension": "250"},
        ]
    }
    errors = refused(cast, doc, "extension 250 is taken by staff0")
    assert list(errors) == ["people[1].extension"]


def test_it_refuses_someone_who_is_not_a_member(cast, people):
    doc = {"people": [{"username": "staff1", "desk": "sales"}, {"username": "nina"}]}
    errors = refused(cast, doc, "'nina' is not a member")
    assert "--create-members" in errors["people[1].username"][0]


def test_it_refuses_to_create_a_member_without_an_extension(cast, people):
    doc = {"people": [{"username": "nina", "email": "nina@example.com"}]}
    refused(cast, doc, "a new on-call person needs an extension", create_members=True)


def test_it_creates_its_own_member_when_another_team_has_the_name(cast, people):
    # oscar is globex's owner: acme gets an oscar of its own, globex's is not touched.
    doc = {"people": [{"username": "oscar", "extension": "299"}]}
    assert load(cast, doc, create_members=True)["members"] == 1
    ours = Person.objects.get(organization=cast.org, extension="299").user
    assert ours != cast.outsider
    assert list(cast.outsider.memberships.values_list("organization", flat=True)) == [
        cast.other_org.pk
    ]
    exported = yamlio.export_data(cast.org)
    assert "oscar" in [p["username"] for p in exported["people"]]
    assert "~" not in yaml.safe_dump(exported)
    # The same name now finds acme's oscar: a second import updates him.
    load(cast, {"people": [{"username": "oscar", "desk": "sales"}]})
    assert Person.objects.get(organization=cast.org, user=ours).desk == "sales"


def test_it_refuses_a_bad_email_for_a_new_member(cast, people):
    doc = {"people": [{"username": "nina", "email": "not an address", "extension": "299"}]}
    errors = refused(cast, doc, "email", create_members=True)
    assert list(errors) == ["people[0].email"]


def test_it_names_the_documents_field_of_a_bad_reminder_channel(cast, people):
    errors = refused(cast, {"people": [{"username": "staff2", "reminder": "pigeon"}]}, "pigeon")
    assert list(errors) == ["people[0].reminder"]


def test_a_late_error_undoes_everything_before_it(cast, people):
    doc = {
        "settings": {"lines": 5, "team_message_url": ""},
        "people": [
            {"username": "nina", "email": "nina@example.com", "extension": "299"},
            {"username": "staff0", "busy": []},
        ],
        "timetables": [
            {
                "week_start": "2026-11-24",  # a Tuesday
                "turns": ["09:00-11:00"],
                "days": ["mon"],
                "lines": [[1]],
            }
        ],
    }
    refused(cast, doc, "a week starts on a Monday", create_members=True)


def test_fields_left_out_keep_their_values(cast, people):
    counts = load(cast, {"people": [{"username": "staff0", "ideal_load": 6}]})
    assert counts["people"] == 1 and counts["busy"] == 0
    person = Person.objects.get(pk=people[0].pk)
    assert (person.extension, person.ideal_load, person.desk, person.max_per_day) == (
        "201",
        6,
        "help desk",
        2,
    )
    assert person.busy_entries.count() == 1 and person.holidays.count() == 1


def test_a_given_list_replaces_and_an_empty_one_clears(cast, people):
    load(
        cast,
        {
            "people": [
                {
                    "username": "staff0",
                    "busy": [{"weekday": "fri", "whole_day": True, "reason": "school run"}],
                    "holidays": [],
                }
            ]
        },
    )
    (busy,) = BusyEntry.objects.filter(person=people[0])
    assert (busy.weekday, busy.reason) == (4, "school run")
    assert not Holiday.objects.filter(person=people[0]).exists()


def test_two_people_may_swap_extensions(cast, people):
    load(
        cast,
        {
            "people": [
                {"username": "staff0", "extension": "202"},
                {"username": "staff1", "extension": "201"},
            ]
        },
    )
    assert dict(Person.objects.values_list("user__username", "extension")) == {
        "staff0": "202",
        "staff1": "201",
        "staff2": "203",
    }


def test_an_export_imports_back_unchanged(cast, people):
    before = yamlio.export_yaml(cast.org)
    load(cast, yaml.safe_load(before))
    assert yamlio.export_yaml(cast.org) == before


def test_a_team_moves_in_with_one_command(cast, tmp_path):
    doc = tmp_path / "team.yaml"
    doc.write_text(
        yaml.safe_dump(
            {
                "settings": {"lines": 2, "turns": ["09:00-11:00", "11:00-13:00"]},
                "people": [
                    {
                        "username": "giulia",
                        "name": "Giulia Rossi",
                        "email": "giulia@example.com",
                        "extension": "201",
                        "reminder": "email",
                    },
                    {"username": "marco", "email": "marco@example.com", "extension": "202"},
                ],
            }
        )
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match="'giulia' is not a member"):
        call_command("oncall", "import", str(doc), "--org", "acme", stdout=out)
    call_command("oncall", "import", str(doc), "--create-members", "--org", "acme", stdout=out)
    assert "2 people, 2 members" in out.getvalue()
    giulia = Person.objects.get(organization=cast.org, user__username="giulia")
    assert (giulia.name, giulia.user.email, giulia.reminder_channel) == (
        "Giulia Rossi",
        "giulia@example.com",
        "email",
    )
    membership = Membership.objects.get(organization=cast.org, user=giulia.user)
    assert membership.role == "agent" and not giulia.user.has_usable_password()
    assert OncallSettings.for_org(cast.org).lines == 2
    assert AuditEntry.objects.filter(action="member.created").count() == 2
