"""Shared builders for the on-call tests."""

from __future__ import annotations

import datetime as dt

from sofno.core.access import Actor
from sofno.core.models import Role
from sofno.core.testing import make_user
from sofno.oncall.models import OncallSettings, Person

WEEK = dt.date(2026, 11, 23)  # a Monday
BEFORE_WEEK = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)  # the Friday before


def owner_actor(cast) -> Actor:
    return Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)


def team(cast, size: int, *, lines: int = 2, turns=None, days=None, **person_fields):
    """``size`` people of acme with extensions 201.., on a small layout."""
    conf = OncallSettings.for_org(cast.org)
    conf.lines = lines
    conf.turns = turns or ["09:00-11:00", "11:00-13:00"]
    conf.days = days or [0, 1]
    conf.weights = {"desk": 0, "split": 0}
    conf.save()
    people = []
    for i in range(size):
        user = make_user(f"staff{i}", cast.org, Role.AGENT)
        fields = {"ideal_load": 4, "max_per_day": 2, **person_fields}
        people.append(
            Person.objects.create(
                organization=cast.org, user=user, extension=str(201 + i), **fields
            )
        )
    return people
