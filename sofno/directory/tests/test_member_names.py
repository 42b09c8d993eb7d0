"""Sign-in names are unique per organization, and nothing tells what another one holds.

Acme (``cast.org``) and Globex (``cast.other_org``) both get a "bob"; every way of
adding a member must succeed, show "bob" and never the handle behind it.
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.test import Client

from sofno.core.access import Actor
from sofno.core.models import AuditEntry, Membership, Role
from sofno.core.testing import field_errors
from sofno.core.usernames import NAME_MAX_LENGTH, sign_in_name
from sofno.directory.actions import invitations

PASSWORD = "a long secret 42"


def _bob(client, **fields):
    body = {"username": "bob", "email": "bob@example.com", "first_name": "Bob", **fields}
    return client.post("/members", body)


def _shape(response) -> tuple[int, dict]:
    """The answer without what differs between any two new members (ids, time)."""
    body = response.json()
    return response.status_code, {k: v for k, v in body.items() if k not in ("id", "created_at")}


def _bob_of(org):
    return Membership.objects.get(organization=org, user__first_name="Bob").user


def test_it_creates_a_name_another_organization_has_and_shows_only_the_name(cast, api_client):
    first = _bob(api_client(cast.other_key))
    second = _bob(api_client(cast.key))
    assert first.status_code == second.status_code == 201, second.content
    assert second.json()["username"] == "bob" and "~" not in second.content.decode()
    ours, theirs = _bob_of(cast.org), _bob_of(cast.other_org)
    assert ours != theirs and sign_in_name(ours) == sign_in_name(theirs) == "bob"
    listed = api_client(cast.key).get("/members?q=bob").json()["items"]
    assert [m["username"] for m in listed] == ["bob"]
    audit = AuditEntry.objects.get(organization=cast.org, action="member.created")
    assert audit.detail["username"] == "bob"


def test_it_answers_alike_whether_or_not_another_organization_has_the_name(cast, api_client):
    free = _bob(api_client(cast.key))  # nobody on the server is bob yet
    taken = _bob(api_client(cast.other_key))  # acme's bob exists
    assert _shape(free) == _shape(taken)
    assert api_client(cast.key).get("/members").json()["items"][1]["username"] == "bob"
    again_here = _bob(api_client(cast.key))
    again_there = _bob(api_client(cast.other_key))
    assert again_here.status_code == again_there.status_code == 422
    assert again_here.content == again_there.content
    assert field_errors(again_here) == {"username": "unique"}
    assert "taken in this organization" in again_here.content.decode()


def test_a_handles_suffix_is_not_searchable_nor_shown_in_order(cast, api_client):
    _bob(api_client(cast.key))
    _bob(api_client(cast.other_key))
    client = api_client(cast.other_key)
    client.post("/members", {"username": "bobby"})
    names = [m["username"] for m in client.get("/members").json()["items"]]
    assert names == ["bob", "bobby", "oscar"]
    suffix = str(cast.other_org.pk)
    assert client.get(f"/members?q={suffix}").json()["items"] == []
    assert client.get("/members?q=~").json()["items"] == []


def test_it_keeps_names_short_enough_for_every_organization(cast, api_client):
    longest = "b" * NAME_MAX_LENGTH
    assert _bob(api_client(cast.other_key), username=longest).status_code == 201
    assert _bob(api_client(cast.key), username=longest).status_code == 201
    too_long = _bob(api_client(cast.key), username=longest + "b")
    assert field_errors(too_long) == {"username": "string_too_long"}
    assert all(len(u) <= 150 for u in get_user_model().objects.values_list("username", flat=True))


def test_an_invitee_chooses_a_name_another_organization_has(cast, api_client):
    _bob(api_client(cast.other_key))
    owner = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    _, token = invitations.invite(acting_user=owner, fields={"email": "bob@acme.test"})
    account = {"username": "bob", "password": PASSWORD, "password_again": PASSWORD}
    invitee = Client()
    done = invitee.post(f"/invite/{token}/", account)
    assert done.status_code == 302, done.content.decode()
    profile = invitee.get("/me/profile/").content.decode()
    assert "Signed in as bob." in profile and "bob~" not in profile
    admin = Client()
    admin.force_login(cast.owner)
    page = admin.get("/settings/members/").content.decode()
    assert 'data-member="bob"' in page and "~" not in re.sub(r"<script.*?</script>", "", page)
    # A second invitee of acme may not be bob too; the page says why.
    _, token = invitations.invite(acting_user=owner, fields={"email": "bob2@acme.test"})
    refused = Client().post(f"/invite/{token}/", account)
    assert refused.status_code == 200
    assert "taken in this organization" in refused.content.decode()
