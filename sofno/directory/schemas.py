"""API schemas for customers, contacts and contact types."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from ninja import FilterLookup, Schema
from pydantic import Field, field_validator

from sofno.core.schemas import (
    FilterIn,
    InSchema,
    PatchSchema,
    WindowsIn,
    check_country,
    check_email,
    check_phone,
    check_timezone,
)

DEFAULT_REFUSAL = "This customer's service is suspended. Please contact your support company."
SLUG = r"^[-a-z0-9_]+$"
Name = Annotated[str, Field(min_length=1, max_length=200)]
Line = Annotated[str, Field(max_length=300)]
Short = Annotated[str, Field(max_length=120)]
Notes = Annotated[str, Field(max_length=10_000)]
Email = Annotated[str, Field(max_length=254)]
Phone = Annotated[str, Field(max_length=40, description="E.164, e.g. +390612345678")]
Country = Annotated[str, Field(max_length=60, description="ISO 3166-1 alpha-2, e.g. IT")]
Timezone = Annotated[str, Field(max_length=64, description="IANA name, e.g. Europe/Rome")]
Agents = Annotated[list[UUID], Field(max_length=1000, description="member ids (/api/v1/members)")]


class CustomerIn(InSchema):
    name: Name
    address: Line = ""
    city: Short = ""
    region: Short = ""
    country: Country = ""
    timezone: Timezone = "UTC"
    email: Email = ""
    notes: Notes = ""
    active: bool = True
    alerts_enabled: bool = True
    business_hours: WindowsIn = WindowsIn()
    refusal_message: Line = DEFAULT_REFUSAL
    assigned_agents: Agents = []

    _email = field_validator("email")(check_email)
    _timezone = field_validator("timezone")(check_timezone)
    _country = field_validator("country")(check_country)


class CustomerPatch(PatchSchema):
    """Partial update: only the fields sent are changed."""

    name: Name | None = None
    address: Line | None = None
    city: Short | None = None
    region: Short | None = None
    country: Country | None = None
    timezone: Timezone | None = None
    email: Email | None = None
    notes: Notes | None = None
    active: bool | None = None
    alerts_enabled: bool | None = None
    business_hours: WindowsIn | None = None
    refusal_message: Line | None = None
    assigned_agents: Agents | None = None

    _email = field_validator("email")(check_email)
    _timezone = field_validator("timezone")(check_timezone)
    _country = field_validator("country")(check_country)


class CustomerOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    name: str
    address: str
    city: str
    region: str
    country: str
    timezone: str
    email: str
    notes: str
    active: bool
    alerts_enabled: bool
    business_hours: dict
    refusal_message: str
    assigned_agents: list[UUID]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_assigned_agents(obj) -> list[UUID]:
        # Uses the prefetched agents and their memberships (see customers_for_api).
        return [
            membership.public_id
            for user in obj.assigned_agents.all()
            for membership in user.memberships.all()
            if membership.organization_id == obj.organization_id
        ]

    @staticmethod
    def resolve_business_hours(obj) -> dict:
        return {"ranges": (obj.business_hours or {}).get("ranges", [])}


class CustomerFilter(FilterIn):
    q: Annotated[str | None, FilterLookup("name__icontains")] = None
    city: Annotated[str | None, FilterLookup("city__iexact")] = None
    country: Annotated[str | None, FilterLookup("country__iexact")] = None
    active: bool | None = None
    alerts_enabled: bool | None = None


class ContactTypeIn(InSchema):
    slug: str = Field(min_length=1, max_length=40, pattern=SLUG)
    name: str = Field(min_length=1, max_length=80)


class ContactTypePatch(PatchSchema):
    slug: str | None = Field(None, min_length=1, max_length=40, pattern=SLUG)
    name: str | None = Field(None, min_length=1, max_length=80)


class ContactTypeOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    slug: str
    name: str


class ContactIn(InSchema):
    customer: UUID
    name: Name
    email: Email = ""
    phone: Phone = ""
    contact_type: str = Field(max_length=40, description="contact type slug, e.g. service")
    is_primary: bool = False
    notes: Notes = ""
    reachable_hours: WindowsIn = WindowsIn()

    _email = field_validator("email")(check_email)
    _phone = field_validator("phone")(check_phone)


class ContactPatch(PatchSchema):
    """Partial update; a contact stays with its customer."""

    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    contact_type: str | None = Field(None, max_length=40)
    is_primary: bool | None = None
    notes: Notes | None = None
    reachable_hours: WindowsIn | None = None

    _email = field_validator("email")(check_email)
    _phone = field_validator("phone")(check_phone)


class ContactOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    customer: UUID = Field(validation_alias="customer.public_id")
    name: str
    email: str
    phone: str
    contact_type: str = Field(validation_alias="contact_type.slug")
    is_primary: bool
    notes: str
    reachable_hours: dict
    created_at: dt.datetime

    @staticmethod
    def resolve_reachable_hours(obj) -> dict:
        return {"ranges": (obj.reachable_hours or {}).get("ranges", [])}


class ContactFilter(FilterIn):
    customer: Annotated[UUID | None, FilterLookup("customer__public_id")] = None
    contact_type: Annotated[str | None, FilterLookup("contact_type__slug")] = None
    is_primary: bool | None = None
    q: Annotated[str | None, FilterLookup("name__icontains")] = None
