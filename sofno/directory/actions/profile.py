"""A person's own staff profile."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from sofno.core.access import Actor
from sofno.core.modeling import apply_fields, save_audited
from sofno.directory.models import StaffProfile


def profile_of(actor: Actor) -> StaffProfile:
    """The signed-in person's profile, created on first use (API keys have none)."""
    actor.require_person()
    profile, _ = StaffProfile.objects.get_or_create(user=actor.user)
    return profile


@transaction.atomic
def update_profile(*, acting_user: Actor, fields: dict[str, Any]) -> StaffProfile:
    """Change the acting person's phone, timezone, language or quiet hours.

    - Quiet hours are weekly windows in the profile's timezone.
    - Any role may change their own profile, read-only roles included.
    """
    profile = profile_of(acting_user)
    changed = apply_fields(profile, fields)
    save_audited(acting_user, profile, "profile.updated", fields=changed)
    return profile
