"""API schemas for customers, contacts and contact types."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from ninja import FilterSchema, Schema
from pydantic import Field, field_validator, model_validator

from sofno.core.models import Membership
from sofno.core.schemas import WindowsIn, check_email, check_phone, check_timezone
from sofno.core.windows import WeeklyWindows


def _check_windows(windows: WindowsIn | None, timezone: str | None) -> None:
    if windows is not None and timezone is not None:
        WeeklyWindows.model_validate({"timezone": timezone, "ranges": windows.ranges})


class CustomerBase(Schema):
    address: str = Field("", max_length=300)
    city: str = Field("", max_length=120)
    region: str = Field("", max_length=120)
    country: str = Field("", max_length=2, pattern=r"^([A-Z]{2})?$", description="ISO 3166 alpha-2")
    timezone: str = "UTC"
    email: str = Field("", max_length=254)
    notes: str = Field("", max_length=10_000)
    active: bool = True
    alerts_enabled: bool = True
    business_hours: WindowsIn = WindowsIn()
    refusal_message: str = Field(
        "This customer's service is suspended. Please contact your support company.",
        max_length=300,
    )
    assigned_agents: list[UUID] = Field(
        default_factory=list, description="member ids (see /api/v1/members)"
    )

    _email = field_validator("email")(check_email)
    _timezone = field_validator("timezone")(check_timezone)

    @model_validator(mode="after")
    def _hours_valid(self):
        _check_windows(self.business_hours, self.timezone)
        return self


class CustomerIn(CustomerBase):
    name: str = Field(min_length=1, max_length=200)


class CustomerPatch(Schema):
    """Partial update: only the fields sent are changed."""

    name: str | None = Field(None, min_length=1, max_length=200)
    address: str | None = Field(None, max_length=300)
    city: str | None = Field(None, max_length=120)
    region: str | None = Field(None, max_length=120)
    country: str | None = Field(None, max_length=2, pattern=r"^([A-Z]{2})?$")
    timezone: str | None = None
    email: str | None = Field(None, max_length=254)
    notes: str | None = Field(None, max_length=10_000)
    active: bool | None = None
    alerts_enabled: bool | None = None
    business_hours: WindowsIn | None = None
    refusal_message: str | None = Field(None, max_length=300)
    assigned_agents: list[UUID] | None = None

    _email = field_validator("email")(check_email)
    _timezone = field_validator("timezone")(check_timezone)


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
        return list(
            Membership.objects.filter(
                organization_id=obj.organization_id, user__in=obj.assigned_agents.all()
            ).values_list("public_id", flat=True)
        )

    @staticmethod
    def resolve_business_hours(obj) -> dict:
        return {"ranges": (obj.business_hours or {}).get("ranges", [])}


class CustomerFilter(FilterSchema):
    q: str | None = Field(None, json_schema_extra={"q": "name__icontains"})
    city: str | None = Field(None, json_schema_extra={"q": "city__iexact"})
    country: str | None = Field(None, json_schema_extra={"q": "country__iexact"})
    active: bool | None = None
    alerts_enabled: bool | None = None


class ContactTypeIn(Schema):
    slug: str = Field(min_length=1, max_length=40, pattern=r"^[-a-z0-9_]+$")
    name: str = Field(min_length=1, max_length=80)


class ContactTypeOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    slug: str
    name: str


class ContactIn(Schema):
    customer: UUID
    name: str = Field(min_length=1, max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=20, description="E.164, e.g. +390612345678")
    contact_type: str = Field(description="contact type slug, e.g. service")
    is_primary: bool = False
    notes: str = Field("", max_length=10_000)
    reachable_hours: WindowsIn = WindowsIn()

    _email = field_validator("email")(check_email)
    _phone = field_validator("phone")(check_phone)


class ContactPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=20)
    contact_type: str | None = None
    is_primary: bool | None = None
    notes: str | None = Field(None, max_length=10_000)
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


class ContactFilter(FilterSchema):
    customer: UUID | None = Field(None, json_schema_extra={"q": "customer__public_id"})
    contact_type: str | None = Field(None, json_schema_extra={"q": "contact_type__slug"})
    is_primary: bool | None = None
    q: str | None = Field(None, json_schema_extra={"q": "name__icontains"})
