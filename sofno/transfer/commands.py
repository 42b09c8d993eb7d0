"""What the import and export commands share."""

from __future__ import annotations

from django.core.management.base import CommandError

from sofno.core.access import Actor
from sofno.core.models import Organization, Role


def organization_actor(slug: str) -> Actor:
    """The command line acts as an administrator of the organization named ``slug``."""
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise CommandError(f"no organization has the slug {slug!r} (see: sofno org list)")
    return Actor(organization=organization, role=Role.ADMIN)
