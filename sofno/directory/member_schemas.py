"""API schemas for members (users with a role) and the staff profile."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django.db.models import Q
from django.db.models.lookups import IContains
from ninja import Schema
from pydantic import Field, field_validator

from sofno.core.models import Role
from sofno.core.schemas import (
    FilterIn,
    InSchema,
    PatchSchema,
    WindowsIn,
    check_email,
    check_phone,
    check_timezone,
)
from sofno.core.usernames import NAME_MAX_LENGTH, sign_in_name, sign_in_name_expression
from sofno.directory.models import Language


class MemberIn(InSchema):
    username: str = Field(
        min_length=1,
        max_length=NAME_MAX_LENGTH,
        description="sign-in name; unique among the organization's members",
    )
    email: str = Field("", max_length=254)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    password: str | None = Field(
        None, min_length=1, max_length=128, description="optional; without it no sign-in"
    )
    role: Role = Role.AGENT
    customer: UUID | None = Field(None, description="required for (only) the customer role")

    _email = field_validator("email")(check_email)


class MemberPatch(PatchSchema):
    role: Role | None = None
    customer: UUID | None = Field(None, description="move a customer user to another customer")


class MemberOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    username: str = Field(description="sign-in name (unique in the organization)")
    email: str = Field(validation_alias="user.email")
    first_name: str = Field(validation_alias="user.first_name")
    last_name: str = Field(validation_alias="user.last_name")
    role: Role
    customer: UUID | None = None
    created_at: dt.datetime

    @staticmethod
    def resolve_username(obj) -> str:
        return sign_in_name(obj.user)

    @staticmethod
    def resolve_customer(obj) -> UUID | None:
        # Uses the prefetched links (see members_for).
        for link in obj.user.customer_links.all():
            if link.organization_id == obj.organization_id:
                return link.customer.public_id
        return None


class MemberFilter(FilterIn):
    role: Role | None = None
    q: str | None = Field(None, description="part of the username, name or email")

    def filter_q(self, value: str | None) -> Q:
        if not value:
            return Q()
        # On the sign-in name, not the handle: a handle's suffix would tell that
        # another organization holds the same name.
        return (
            Q(IContains(sign_in_name_expression("user__username"), value))
            | Q(user__email__icontains=value)
            | Q(user__first_name__icontains=value)
            | Q(user__last_name__icontains=value)
        )


class ProfileOut(Schema):
    username: str = Field(description="sign-in name (unique in the organization)")
    phone: str
    timezone: str
    language: Language
    quiet_hours: dict

    @staticmethod
    def resolve_username(obj) -> str:
        return sign_in_name(obj.user)

    @staticmethod
    def resolve_quiet_hours(obj) -> dict:
        return {"ranges": (obj.quiet_hours or {}).get("ranges", [])}


class ProfilePatch(PatchSchema):
    phone: str | None = Field(None, max_length=40, description='E.164; "" clears it')
    timezone: str | None = Field(None, max_length=64)
    language: Language | None = None
    quiet_hours: WindowsIn | None = Field(None, description="weekly windows in your timezone")

    _phone = field_validator("phone")(check_phone)
    _timezone = field_validator("timezone")(check_timezone)
