"""API schemas of the events app."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from ninja import Field, Schema
from pydantic import field_validator

from sofno.core.schemas import LocalTime, PatchSchema, check_timezone
from sofno.events.catalog import NAME_PATTERN, TOKEN_TYPES
from sofno.events.models import Consumer, TimezoneSource

TYPE_FILTER_PATTERN = r"^(\*|[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?)$"


class TokenIn(Schema):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$", max_length=100)
    type: str = "string"
    description: str = Field("", max_length=300)
    example: Any = None

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value not in TOKEN_TYPES:
            raise ValueError(f"must be one of {', '.join(TOKEN_TYPES)}")
        return value


class TokenOut(Schema):
    name: str
    type: str
    description: str
    example: Any = None


class EventTypeOut(Schema):
    name: str
    description: str
    category: str
    custom: bool
    tokens: list[TokenOut]


class CustomTypeIn(Schema):
    name: str = Field(pattern=NAME_PATTERN, max_length=100, examples=["invoice.overdue"])
    description: str = Field("", max_length=500)
    category: str = Field("", max_length=60)
    tokens: list[TokenIn] = []


class CustomTypePatch(PatchSchema):
    description: str | None = Field(None, max_length=500)
    category: str | None = Field(None, max_length=60)
    tokens: list[TokenIn] | None = None


class EventIn(Schema):
    type: str = Field(max_length=100, examples=["invoice.delivered"])
    subject: str = Field("", max_length=200, examples=["invoice:2026-000123"])
    data: dict[str, Any] = {}
    ordering_key: str = Field("", max_length=200)
    occurred_at: dt.datetime | None = None

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must include a timezone offset (e.g. Z or +01:00)")
        return value


class EventOut(Schema):
    id: UUID = Field(alias="public_id")
    sequence: int
    type: str
    subject: str
    data: dict[str, Any] = Field(alias="payload")
    ordering_key: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    source: str


class EventFilter(Schema):
    type: str | None = Field(None, description="exact type, or a prefix ending in .*")
    subject: str | None = None
    ordering_key: str | None = None
    after: int | None = Field(None, ge=0, description="only events with a larger sequence")
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _check_filter(values: list[str]) -> list[str]:
    import re

    for value in values:
        if not re.match(TYPE_FILTER_PATTERN, value):
            raise ValueError(f"{value!r} is not an event type or a prefix ending in .*")
    return values


class TriggerIn(Schema):
    name: str = Field(max_length=120)
    source_type: str = Field(max_length=100)
    timestamp_token: str = Field("", max_length=100)
    offset_minutes: int = Field(0, ge=-525600, le=525600)
    at_local_time: LocalTime | None = None
    timezone_source: TimezoneSource = TimezoneSource.CUSTOMER
    timezone: str = ""
    emit_type: str = Field(max_length=100)
    enabled: bool = True

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str | None:
        return check_timezone(value) if value else value


class TriggerPatch(PatchSchema):
    nullable = frozenset({"at_local_time"})  # null: due at the offset itself

    name: str | None = Field(None, max_length=120)
    source_type: str | None = Field(None, max_length=100)
    timestamp_token: str | None = Field(None, max_length=100)
    offset_minutes: int | None = Field(None, ge=-525600, le=525600)
    at_local_time: LocalTime | None = None
    timezone_source: TimezoneSource | None = None
    timezone: str | None = None
    emit_type: str | None = Field(None, max_length=100)
    enabled: bool | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return check_timezone(value) if value else value


class TriggerOut(Schema):
    id: UUID = Field(alias="public_id")
    name: str
    source_type: str
    timestamp_token: str
    offset_minutes: int
    at_local_time: LocalTime | None
    timezone_source: str
    timezone: str
    emit_type: str
    enabled: bool


class ConsumerIn(Schema):
    name: str = Field(max_length=120)
    event_types: list[str] = []
    cursor: int | None = Field(None, ge=0, description="start after this sequence")

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return _check_filter(value)


class ConsumerPatch(PatchSchema):
    name: str | None = Field(None, max_length=120)
    event_types: list[str] | None = None

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str] | None) -> list[str] | None:
        return _check_filter(value) if value is not None else value


class ConsumerOut(Schema):
    id: UUID = Field(alias="public_id")
    name: str
    event_types: list[str]
    cursor: str
    cursor_committed_at: dt.datetime | None

    @staticmethod
    def resolve_cursor(obj: Consumer) -> str:
        return str(obj.cursor)


class ConsumerPage(Schema):
    events: list[EventOut]
    next_cursor: str = Field(description="pass as ?after= next time; commit it when done")


class CursorIn(Schema):
    cursor: int = Field(ge=0)
