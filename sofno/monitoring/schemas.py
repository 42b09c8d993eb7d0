"""API schemas for devices, incidents, maintenance and commands."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from ninja import FilterLookup, FilterSchema, Schema
from pydantic import Field, model_validator

from sofno.core.schemas import PatchSchema
from sofno.core.usernames import sign_in_name
from sofno.monitoring.models import CommandKind, DeviceStatus, IncidentStatus, OperatingSystem

# An interval under 10 s would make every agent a load test; over a week is a typo.
Interval = Field(None, ge=10, le=7 * 24 * 3600)
Grace = Field(None, ge=0, le=7 * 24 * 3600)


class DeviceIn(Schema):
    customer: UUID
    name: str = Field(min_length=1, max_length=200)
    os: OperatingSystem = OperatingSystem.WINDOWS
    pos_software: str = Field("", max_length=40)
    description: str = Field("", max_length=10_000)
    active: bool = True
    checkin_interval: int | None = Interval
    grace: int | None = Grace


class DevicePatch(PatchSchema):
    # null: inherit the customer's or the organization's default again.
    nullable = frozenset({"checkin_interval", "grace", "installed_by"})

    customer: UUID | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    os: OperatingSystem | None = None
    pos_software: str | None = Field(None, max_length=40)
    description: str | None = Field(None, max_length=10_000)
    active: bool | None = None
    checkin_interval: int | None = Interval
    grace: int | None = Grace
    installed_by: str | None = Field(
        None,
        max_length=150,
        description="member id or username of the staff member who installed it; null clears",
    )


class DeviceOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    customer: UUID = Field(validation_alias="customer.public_id")
    name: str
    os: str
    pos_software: str
    description: str
    active: bool
    status: DeviceStatus
    last_checkin_at: dt.datetime | None
    alert_after: dt.datetime | None
    last_ip: str | None
    agent_version: str
    installed_by: str | None = Field(None, description="username of its installer")
    facts: dict
    checkin_interval: int | None
    grace: int | None
    effective_interval: int
    effective_grace: int
    country: str
    city: str
    latitude: float | None
    longitude: float | None
    local_network: bool
    key_prefix: str
    created_at: dt.datetime

    @staticmethod
    def resolve_installed_by(obj) -> str | None:
        return sign_in_name(obj.installed_by) if obj.installed_by_id else None


class DeviceCreated(DeviceOut):
    key: str = Field(description="the device key, shown this once")


class DeviceBulkIn(Schema):
    devices: list[DeviceIn] = Field(min_length=1, max_length=1000)


class DeviceBulkOut(Schema):
    devices: list[DeviceCreated] = Field(description="in the order sent; keys shown this once")


class KeyOut(Schema):
    key: str


class DeviceFilter(FilterSchema):
    customer: Annotated[UUID | None, FilterLookup(q="customer__public_id")] = None
    status: DeviceStatus | None = None
    q: Annotated[str | None, FilterLookup(q="name__icontains")] = None


class OfflinePeriodOut(Schema):
    started_at: dt.datetime
    ended_at: dt.datetime | None
    duration_s: float | None

    @staticmethod
    def resolve_duration_s(obj) -> float | None:
        return obj.duration.total_seconds() if obj.duration is not None else None


class TimelineOut(Schema):
    at: dt.datetime
    kind: str
    message: str = Field(description="What happened, in the request's language.")
    actor: str = Field(validation_alias="actor_label")

    @staticmethod
    def resolve_message(obj) -> str:
        return obj.text


class IncidentOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    device: UUID | None = None
    customer: UUID = Field(validation_alias="customer.public_id")
    kind: str
    devices_down: int
    devices_total: int
    status: IncidentStatus
    title: str
    opened_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    resolved_at: dt.datetime | None
    resolved_by: str | None
    auto_resolved: bool
    alert_due_at: dt.datetime | None
    alerted_at: dt.datetime | None
    suppressed_reason: str
    flaps: int

    @staticmethod
    def resolve_device(obj) -> UUID | None:
        return obj.device.public_id if obj.device_id else None

    @staticmethod
    def resolve_acknowledged_by(obj) -> str | None:
        return sign_in_name(obj.acknowledged_by) if obj.acknowledged_by else None

    @staticmethod
    def resolve_resolved_by(obj) -> str | None:
        if obj.auto_resolved:
            return "auto"
        return sign_in_name(obj.resolved_by) if obj.resolved_by else None


class IncidentDetail(IncidentOut):
    timeline: list[TimelineOut]

    @staticmethod
    def resolve_timeline(obj) -> list:
        return list(obj.timeline.all())


class IncidentFilter(FilterSchema):
    status: IncidentStatus | None = None
    device: Annotated[UUID | None, FilterLookup(q="device__public_id")] = None


class NoteIn(Schema):
    note: str = Field("", max_length=300)


class MaintenanceIn(Schema):
    device: UUID | None = None
    customer: UUID | None = None
    starts_at: dt.datetime | None = Field(None, description="empty: now (immediate)")
    ends_at: dt.datetime
    reason: str = Field(min_length=1, max_length=300)

    @model_validator(mode="after")
    def _one_target(self):
        if (self.device is None) == (self.customer is None):
            raise ValueError("give either device or customer")
        if self.starts_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class MaintenanceOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    device: UUID | None
    customer: UUID | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str

    @staticmethod
    def resolve_device(obj) -> UUID | None:
        return obj.device.public_id if obj.device_id else None

    @staticmethod
    def resolve_customer(obj) -> UUID | None:
        return obj.customer.public_id if obj.customer_id else None


class CommandTemplateIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    kind: CommandKind
    argument: str = Field("", max_length=200, pattern=r"^[A-Za-z0-9_.@-]*$")
    timeout: int = Field(60, ge=1, le=3600)
    allowed_roles: list[str] = Field(default_factory=list)


class CommandTemplateOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    name: str
    kind: CommandKind
    argument: str
    timeout: int
    allowed_roles: list[str]


# OpenAPI files schemas by class name: notification templates have their own.
TemplateIn, TemplateOut = CommandTemplateIn, CommandTemplateOut


class CommandIn(Schema):
    template: UUID


class CommandOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    device: UUID = Field(validation_alias="device.public_id")
    kind: str
    argument: str
    status: str
    issued_by: str = Field(validation_alias="issued_by_label")
    issued_at: dt.datetime
    sent_at: dt.datetime | None
    finished_at: dt.datetime | None
    exit_code: int | None
    output: str
    output_truncated: bool


class CommandResultIn(Schema):
    status: str = Field(pattern=r"^(succeeded|failed|timed_out|refused)$")
    exit_code: int | None = None
    output: str = Field("", max_length=1024 * 1024)


class DefaultsIn(Schema):
    checkin_interval: int = Field(ge=10, le=7 * 24 * 3600)
    grace: int = Field(ge=0, le=7 * 24 * 3600)
    flap_window: int = Field(900, ge=0, le=24 * 3600)
    # Computers of one customer offline within this many seconds: one site incident.
    site_window: int = Field(120, ge=0, le=24 * 3600)


class DefaultsOut(Schema):
    checkin_interval: int
    grace: int
    flap_window: int
    site_window: int


class CustomerMonitoringIn(Schema):
    checkin_interval: int | None = Interval
    grace: int | None = Grace
    site_window: int | None = Field(None, ge=0, le=24 * 3600)


class CustomerMonitoringOut(Schema):
    checkin_interval: int | None
    grace: int | None
    site_window: int | None


class EnrollIn(Schema):
    token: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    os: OperatingSystem = OperatingSystem.OTHER
    facts: dict = Field(default_factory=dict)


class EnrollOut(Schema):
    device: UUID
    key: str
    public_key: str
    checkin_interval: int


class PosSoftwareIn(Schema):
    slug: str = Field(min_length=1, max_length=40, pattern=r"^[-a-z0-9_]+$")
    name: str = Field(min_length=1, max_length=100)


class PosSoftwareOut(Schema):
    slug: str
    name: str
    builtin: bool = False
