"""API schemas for tickets and ticket statuses."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from ninja import FilterLookup, FilterSchema, Schema
from pydantic import Field

from sofno.core.models import Membership
from sofno.core.schemas import PatchSchema
from sofno.core.usernames import sign_in_name
from sofno.tickets.models import Priority


class TicketIn(Schema):
    customer: UUID
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=20_000)
    priority: Priority = Priority.NORMAL
    status: str | None = Field(None, description="status slug; default: the first status")
    technicians: list[UUID] = Field(default_factory=list, description="member ids")


class TicketPatch(PatchSchema):
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=20_000)
    priority: Priority | None = None


class StatusChangeIn(Schema):
    status: str = Field(description="status slug")


class AssignIn(Schema):
    technicians: list[UUID] = Field(description="member ids; replaces the current set")


class StatusOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    slug: str
    name: str
    is_open: bool
    position: int
    notify: bool
    email_admins: bool
    email_customer: bool
    email_technicians: bool
    push_admins: bool
    push_technicians: bool


class StatusIn(Schema):
    slug: str = Field(min_length=1, max_length=40, pattern=r"^[-a-z0-9_]+$")
    name: str = Field(min_length=1, max_length=80)
    is_open: bool = True
    position: int = Field(0, ge=0, le=1000)
    notify: bool = False
    email_admins: bool = False
    email_customer: bool = False
    email_technicians: bool = False
    push_admins: bool = False
    push_technicians: bool = False


class StatusPatch(PatchSchema):
    name: str | None = Field(None, min_length=1, max_length=80)
    is_open: bool | None = None
    position: int | None = Field(None, ge=0, le=1000)
    notify: bool | None = None
    email_admins: bool | None = None
    email_customer: bool | None = None
    email_technicians: bool | None = None
    push_admins: bool | None = None
    push_technicians: bool | None = None


class ChangeOut(Schema):
    at: dt.datetime
    actor: str | None
    kind: str
    from_value: str
    to_value: str

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return sign_in_name(obj.actor) if obj.actor else None


class TicketOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    number: int
    customer: UUID = Field(validation_alias="customer.public_id")
    title: str
    description: str
    status: str = Field(validation_alias="status.slug")
    is_open: bool
    priority: str
    technicians: list[UUID]
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None

    @staticmethod
    def resolve_technicians(obj) -> list[UUID]:
        technicians = obj.technicians.all()
        if all(hasattr(user, "org_memberships") for user in technicians):
            # Prefetched by the list endpoint (technicians' memberships): no query per ticket.
            return [m.public_id for user in technicians for m in user.org_memberships]
        return list(
            Membership.objects.filter(
                organization_id=obj.organization_id, user__in=technicians
            ).values_list("public_id", flat=True)
        )


class TicketFilter(FilterSchema):
    customer: Annotated[UUID | None, FilterLookup("customer__public_id")] = None
    status: Annotated[str | None, FilterLookup("status__slug")] = None
    is_open: Annotated[bool | None, FilterLookup("status__is_open")] = None
    priority: Priority | None = None
    q: Annotated[str | None, FilterLookup("title__icontains")] = None


class CommentIn(Schema):
    body: str = Field(min_length=1, max_length=10_000)
    public: bool = Field(
        False, description="a public answer the customer sees (customer users: always public)"
    )


class CommentOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    at: dt.datetime = Field(validation_alias="created_at")
    author: str = Field(validation_alias="author_name")
    by_customer: bool
    public: bool = Field(validation_alias="is_public")
    body: str
