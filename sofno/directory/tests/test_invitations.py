"""Invitation rules below the pages: one use per link, even when two people race."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection

from sofno.core.access import Actor, PermissionDenied
from sofno.core.models import Membership, Role
from sofno.core.testing import make_user
from sofno.directory.actions import invitations
from sofno.directory.models import Invitation

PASSWORD = "a long secret 42"


@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_racing_people_use_a_link(cast):
    owner = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    _, token = invitations.invite(acting_user=owner, fields={"email": "twin@example.com"})
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def use(username: str) -> None:
        try:
            start.wait()
            invitations.accept(token=token, fields={"username": username, "password": PASSWORD})
            outcomes[username] = "member"
        except invitations.InvitationClosed:
            outcomes[username] = "closed"
        except Exception as error:  # e.g. SQLite's "database is locked": still refused
            outcomes[username] = type(error).__name__
        finally:
            connection.close()

    threads = [threading.Thread(target=use, args=(name,)) for name in ("twin_a", "twin_b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes.values()).count("member") == 1, outcomes
    assert (
        Membership.objects.filter(organization=cast.org, user__email="twin@example.com").count()
        == 1
    )
    winner = next(name for name, outcome in outcomes.items() if outcome == "member")
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == get_user_model().objects.get(username=winner)


def test_only_an_owner_invites_an_owner_and_a_customer_user_names_a_customer(cast):
    admin = Actor(
        organization=cast.org, role=Role.ADMIN, user=make_user("ada", cast.org, Role.ADMIN)
    )
    with pytest.raises(PermissionDenied):
        invitations.invite(acting_user=admin, fields={"email": "o@example.com", "role": "owner"})
    with pytest.raises(ValidationError) as missing:
        invitations.invite(acting_user=admin, fields={"email": "c@example.com", "role": "customer"})
    assert "customer" in missing.value.message_dict
    viewer = Actor(organization=cast.org, role=Role.VIEWER, user=cast.viewer)
    with pytest.raises(PermissionDenied):
        invitations.invite(acting_user=viewer, fields={"email": "v@example.com"})
    assert not Invitation.objects.exists()
