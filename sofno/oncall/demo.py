"""Sample on-call people and a published timetable for ``sofno demo``."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from sofno.core.access import Actor
from sofno.core.models import Membership, Role
from sofno.core.usernames import members_named, save_with_handle
from sofno.oncall import actions
from sofno.oncall.models import BusyEntry, OncallSettings, Person

STAFF = [
    ("giulia", "Giulia", "Rossi", "201", "help desk"),
    ("marco", "Marco", "Bianchi", "202", "help desk"),
    ("lucia", "Lucia", "Verdi", "203", "field"),
    ("pablo", "Pablo", "García", "204", "field"),
    ("emma", "Emma", "Smith", "205", "network"),
]


def _new_agent(organization, username: str, first: str, last: str):
    user = get_user_model()(username=username, first_name=first, last_name=last)
    user.set_unusable_password()
    save_with_handle(user, organization)
    Membership.objects.create(organization=organization, user=user, role=Role.AGENT)
    return user


def seed(organization, owner) -> None:
    """Five technicians plus the owner, with busy entries and this week published."""
    conf = OncallSettings.for_org(organization)
    conf.lines = 2
    conf.lunch_pairs = [[2, 3]]
    conf.save()
    users = [owner]
    for username, first, last, *_ in STAFF:
        # Looked up among this organization's members only: another organization's
        # "giulia" is somebody else and must not be pulled into the demo.
        found = members_named(organization, username).select_related("user").first()
        users.append(found.user if found else _new_agent(organization, username, first, last))
    people = []
    for index, user in enumerate(users):
        extension = STAFF[index - 1][3] if index else "200"
        desk = STAFF[index - 1][4] if index else "management"
        person, _ = Person.objects.get_or_create(
            organization=organization,
            user=user,
            defaults={"extension": extension, "desk": desk, "ideal_load": 7},
        )
        people.append(person)
    BusyEntry.objects.create(
        person=people[1], weekday=2, whole_day=True, hard=True, reason="customer visits"
    )
    BusyEntry.objects.create(
        person=people[2], weekday=0, turns=[0], hard=False, reason="prefers a late start"
    )
    actor = Actor(organization=organization, role=Role.OWNER, user=owner)
    today = timezone.localdate()
    draft = actions.generate_draft(acting_user=actor, week=today, time_limit=5)
    actions.publish(acting_user=actor, timetable=draft)
    actions.generate_draft(acting_user=actor, week=today + dt.timedelta(days=7), time_limit=5)
