"""Core endpoints: who am I."""

from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema

from sofno.core.api import actor

router = Router(tags=["core"])


class MeOut(Schema):
    organization: str
    organization_id: UUID
    role: str
    read_only: bool


@router.get("/me", response=MeOut)
def me(request: HttpRequest):
    """The organization and role behind the credentials used."""
    who = actor(request)
    return {
        "organization": who.organization.slug,
        "organization_id": who.organization.public_id,
        "role": who.role,
        "read_only": not who.can_write,
    }
