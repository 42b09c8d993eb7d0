"""Core endpoints: who am I, and the organization's API keys."""

import datetime as dt
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from sofno.core import actions
from sofno.core.access import get_scoped_or_404
from sofno.core.api import ERRORS, actor
from sofno.core.models import ApiKey
from sofno.core.pagination import Pages
from sofno.core.schemas import FilterIn, InSchema
from sofno.core.scoping import customer_access

router = Router(tags=["core"])


class MeOut(Schema):
    organization: str
    organization_id: UUID
    role: str
    read_only: bool


class ApiKeyIn(InSchema):
    name: str = Field(min_length=1, max_length=100)
    read_only: bool = False


class ApiKeyOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    name: str
    prefix: str = Field(description="the first characters of the key, to recognize it")
    read_only: bool
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewApiKeyOut(ApiKeyOut):
    key: str = Field(description="the key itself: shown this once, never again")


class ApiKeyFilter(FilterIn):
    revoked: bool | None = Field(None, description="true: only revoked keys; false: only live")

    def filter_revoked(self, value: bool | None) -> Q:
        return Q() if value is None else Q(revoked_at__isnull=not value)


@router.get("/me", response=MeOut)
@customer_access
def me(request: HttpRequest) -> dict[str, Any]:
    """The organization and role behind the credentials used."""
    who = actor(request)
    return {
        "organization": who.organization.slug,
        "organization_id": who.organization.public_id,
        "role": who.role,
        "read_only": not who.can_write,
    }


@router.get("/api-keys", response={200: list[ApiKeyOut], **ERRORS})
@paginate(Pages)
def list_api_keys(request: HttpRequest, filters: Query[ApiKeyFilter]) -> QuerySet[ApiKey]:
    """The organization's API keys, newest first (owners and admins)."""
    who = actor(request)
    who.require_admin()
    keys = ApiKey.objects.filter(organization=who.organization).order_by("-created_at", "-id")
    return filters.filter(keys)


@router.post("/api-keys", response={201: NewApiKeyOut, **ERRORS})
def create_api_key(request: HttpRequest, payload: ApiKeyIn) -> Status[ApiKey]:
    """Issue a key; the answer holds the key itself, once (signed-in owners and admins)."""
    key, plain = actions.issue_api_key(acting_user=actor(request), **payload.model_dump())
    key.key = plain  # type: ignore[attr-defined]  # shown once, by NewApiKeyOut
    return Status(201, key)


@router.get("/api-keys/{key_id}", response={200: ApiKeyOut, **ERRORS})
def get_api_key(request: HttpRequest, key_id: UUID) -> ApiKey:
    who = actor(request)
    who.require_admin()
    return get_scoped_or_404(ApiKey.objects.all(), who, public_id=key_id)


@router.delete("/api-keys/{key_id}", response={204: None, **ERRORS})
def revoke_api_key(request: HttpRequest, key_id: UUID) -> Status[None]:
    """Revoke a key at once (it keeps its row, with ``revoked_at``)."""
    who = actor(request)
    who.require_admin()
    key = get_scoped_or_404(ApiKey.objects.all(), who, public_id=key_id)
    actions.revoke_api_key(acting_user=who, key=key)
    return Status(204, None)
