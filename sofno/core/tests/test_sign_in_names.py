"""Two organizations, one "bob" each: sign-in, the member command and lookups by name."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from sofno.core.access import Actor
from sofno.core.actions import create_member
from sofno.core.middleware import SESSION_ORG_KEY
from sofno.core.models import Membership, Role
from sofno.core.ratelimit import Rate
from sofno.core.testing import ApiClient
from sofno.core.usernames import members_named, name_taken_in, named_q, sign_in_name
from sofno.directory.models import Customer
from sofno.events.models import Event
from sofno.monitoring import actions as monitoring
from sofno.notify.routing.recipients import resolve

NOON = "2026-03-02 12:00:10 +00:00"


def _owner(org, user) -> Actor:
    return Actor(organization=org, role=Role.OWNER, user=user)


def _add(org, owner, name: str, password: str | None = None, role: str = Role.AGENT):
    fields = {"username": name, "password": password, "role": role}
    return create_member(acting_user=_owner(org, owner), fields=fields).user


@pytest.fixture
def bobs(cast):
    """``(acme's bob, globex's bob)``: globex's comes second, so it holds the handle."""
    acme = _add(cast.org, cast.owner, "bob", "acme bob's secret 1")
    globex = _add(cast.other_org, cast.outsider, "bob", "globex bob's secret 2")
    return acme, globex


def test_each_bob_has_his_own_account_and_both_are_called_bob(cast, bobs):
    acme, globex = bobs
    assert acme.get_username() == "bob" and globex.get_username() != "bob"
    assert sign_in_name(acme) == sign_in_name(globex) == "bob"
    for org, bob in ((cast.org, acme), (cast.other_org, globex)):
        assert name_taken_in(org, "bob") and members_named(org, "bob").get().user == bob
    assert not name_taken_in(cast.org, "Bob") and not name_taken_in(cast.org, "bo")
    # Exact even where LIKE ignores case (SQLite).
    assert not get_user_model().objects.filter(named_q("BOB")).exists()


def test_it_gives_a_former_members_name_again(cast, bobs):
    _acme, globex = bobs
    Membership.objects.filter(user=globex).delete()  # the account stays, as on removal
    again = _add(cast.other_org, cast.outsider, "bob")
    assert again != globex and sign_in_name(again) == "bob"


def _login(client: Client, name: str, password: str):
    return client.post("/login/", {"username": name, "password": password})


def _members_seen(client: Client) -> list[str]:
    return [m["username"] for m in client.get("/api/v1/members").json()["items"]]


def test_both_bobs_sign_in_with_their_own_password_into_their_own_organization(cast, bobs):
    acme, globex = bobs
    for bob, password, org in (
        (acme, "acme bob's secret 1", cast.org),
        (globex, "globex bob's secret 2", cast.other_org),
    ):
        client = Client()
        assert _login(client, "bob", password).status_code == 302
        assert int(client.session["_auth_user_id"]) == bob.pk
        seen = _members_seen(client)
        assert ("olivia" in seen) == (org == cast.org) and ("oscar" in seen) == (org != cast.org)
    for wrong in ("nobody's password", ""):
        refused = Client()
        assert _login(refused, "bob", wrong).status_code == 200
        assert "_auth_user_id" not in refused.session
    # Only the sign-in name works: a handle typed in is nobody's name.
    assert _login(Client(), globex.get_username(), "globex bob's secret 2").status_code == 200


def test_a_bob_added_to_a_second_organization_starts_in_the_one_he_was_made_in(cast, bobs):
    _acme, globex = bobs
    Membership.objects.create(organization=cast.org, user=globex, role=Role.VIEWER)
    client = Client()
    assert _login(client, "bob", "globex bob's secret 2").status_code == 302
    assert client.session[SESSION_ORG_KEY] == cast.other_org.pk


@pytest.fixture
def login_rates(settings):
    settings.LOGIN_USER_RATE = Rate(3, 900)
    settings.LOGIN_IP_RATE = Rate(50, 900)
    settings.LOGIN_USER_GLOBAL_RATE = Rate(50, 900)
    settings.CACHE_URL = ""
    return settings


def test_the_throttle_counts_the_typed_name_and_a_right_password_clears_it(cast, bobs, login_rates):
    with time_machine.travel(NOON, tick=False):
        client = Client()
        for _ in range(2):
            _login(client, "bob", "wrong")
        assert _login(client, "bob", "globex bob's secret 2").status_code == 302
        client.logout()
        for _ in range(2):
            _login(client, "bob", "wrong")
        assert _login(client, "bob", "acme bob's secret 1").status_code == 302
        client.logout()
        for _ in range(3):
            _login(client, "bob", "wrong")
        locked = _login(client, "bob", "acme bob's secret 1")
        assert locked.context["form"].non_field_errors().as_data()[0].code == "login_throttled"


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("member", *args, stdout=out)
    return out.getvalue()


def test_the_member_command_adds_lists_and_removes_its_own_bob(cast):
    _add(cast.other_org, cast.outsider, "bob")
    added = _command("add", "bob", "--email", "bob@acme.test", "--org", "acme")
    assert added.startswith("added bob (agent) to acme")
    assert "bob\tagent\tbob@acme.test" in _command("list", "--org", "acme")
    with pytest.raises(CommandError, match="taken in this organization"):
        _command("add", "bob", "--email", "b2@acme.test", "--org", "acme")
    assert _command("remove", "bob", "--org", "acme") == "removed bob from acme\n"
    assert members_named(cast.other_org, "bob").exists()
    assert not members_named(cast.org, "bob").exists()


def test_the_member_command_sets_the_password_of_its_own_bob(cast, bobs):
    acme, globex = bobs
    out = _command("password", "bob", "--org", "globex")
    new = out.split("one-time password: ")[1].strip()
    globex.refresh_from_db()
    acme.refresh_from_db()
    assert globex.check_password(new) and acme.check_password("acme bob's secret 1")
    assert out.startswith("password set for bob in globex")
    with pytest.raises(CommandError, match="password"):
        _command("password", "bob", "--org", "acme", "--password", "123")
    with pytest.raises(CommandError, match="'nobody' is not a member of acme"):
        _command("password", "nobody", "--org", "acme")


def _event(org, **payload) -> Event:
    return Event(organization=org, sequence=1, type="ticket.assigned", payload=payload)


def test_lookups_by_name_find_the_bob_of_each_organization(cast, bobs):
    for org, owner, bob in (
        (cast.org, cast.owner, bobs[0]),
        (cast.other_org, cast.outsider, bobs[1]),
    ):
        named = resolve([{"kind": "user", "value": "bob"}], org, _event(org), at=None)
        technicians = _event(org, technicians=[{"username": "bob"}])
        listed = resolve([{"kind": "technicians"}], org, technicians, at=None)
        team = _event(org, team=[{"username": "bob", "reminder": "email"}])
        turn = resolve([{"kind": "turn_people", "value": "email"}], org, team, at=None)
        for found in (named, listed, turn):
            assert [p.user for p in found.people] == [bob] and found.notes == []
            assert found.people[0].name == "bob"
        customer = Customer.objects.create(organization=org, name=f"Shop of {org.slug}")
        device, _ = monitoring.create_device(
            acting_user=_owner(org, owner), customer=customer, fields={"name": "Till"}
        )
        session = ApiClient.as_user(owner)
        answer = session.patch(f"/devices/{device.public_id}", {"installed_by": "bob"})
        assert answer.status_code == 200 and answer.json()["installed_by"] == "bob"
        device.refresh_from_db()
        assert device.installed_by == bob
        rule = {
            "name": "To bob",
            "event_types": ["device.offline"],
            "recipients": [{"kind": "user", "value": "bob"}],
            "channels": ["email"],
        }
        assert session.post("/notification-rules", rule).status_code == 201
