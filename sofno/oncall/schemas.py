"""API schemas for people, availability, timetables and calls."""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args
from uuid import UUID

from ninja import Schema
from pydantic import Field, field_serializer, field_validator, model_validator

from sofno.core.channels import Channel
from sofno.core.schemas import PatchSchema, check_phone
from sofno.core.usernames import sign_in_name
from sofno.oncall.explain import describe_break
from sofno.oncall.models import REMINDER_CHOICES
from sofno.oncall.turns import parse_day

# Spelled out for the OpenAPI schema and mypy; checked against the one list.
ReminderName = Literal["inapp", "email", "sms", "webpush", "none"]
assert set(get_args(ReminderName)) == {value for value, _ in REMINDER_CHOICES}, (
    "ReminderName drifted"
)


class PersonIn(Schema):
    member: UUID = Field(description="member id (see /api/v1/members)")
    extension: str = Field(min_length=1, max_length=20, pattern=r"^[0-9]+$")
    ideal_load: int = Field(8, ge=0, le=100)
    max_per_day: int = Field(2, ge=0, le=24)
    desk: str = Field("", max_length=60)
    active: bool = True
    reminder_channel: ReminderName = Channel.INAPP.value


class PersonPatch(PatchSchema):
    extension: str | None = Field(None, min_length=1, max_length=20, pattern=r"^[0-9]+$")
    ideal_load: int | None = Field(None, ge=0, le=100)
    max_per_day: int | None = Field(None, ge=0, le=24)
    desk: str | None = Field(None, max_length=60)
    active: bool | None = None
    reminder_channel: ReminderName | None = None


class BusyIn(Schema):
    date: dt.date | None = None
    weekday: str | None = Field(None, description="mon..sun, for an entry every week")
    whole_day: bool = False
    turns: list[int] = Field(default_factory=list, description="turn numbers from 0")
    hard: bool = True
    reason: str = Field(min_length=1, max_length=200)

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value):
        if value is None:
            return value
        parse_day(value)
        return value

    @model_validator(mode="after")
    def _shape(self):
        if (self.date is None) == (self.weekday is None):
            raise ValueError("give either a date or a weekday (every week), not both")
        if not self.whole_day and not self.turns:
            raise ValueError("choose at least one turn, or the whole day")
        if self.whole_day and self.turns:
            raise ValueError("a whole-day entry lists no turns")
        if any(t < 0 for t in self.turns):
            raise ValueError("turns are numbers from 0")
        return self

    def fields(self) -> dict:
        data = self.dict()
        data["weekday"] = parse_day(self.weekday) if self.weekday is not None else None
        return data


class BusyOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    date: dt.date | None
    weekday: int | None
    whole_day: bool
    turns: list[int]
    hard: bool
    reason: str


class HolidayIn(Schema):
    start: dt.date
    end: dt.date
    reason: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _order(self):
        if self.end < self.start:
            raise ValueError("the last day (end) is before the first day (start)")
        return self


class HolidayOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    start: dt.date
    end: dt.date
    reason: str


class PersonOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    name: str
    username: str = Field(description="sign-in name (unique in the organization)")
    extension: str
    ideal_load: int
    max_per_day: int
    desk: str
    active: bool
    reminder_channel: str
    busy: list[BusyOut]
    holidays: list[HolidayOut]

    @staticmethod
    def resolve_username(obj) -> str:
        return sign_in_name(obj.user)

    @staticmethod
    def resolve_busy(obj) -> list:
        return list(obj.busy_entries.all())

    @staticmethod
    def resolve_holidays(obj) -> list:
        return list(obj.holidays.all())


class DraftIn(Schema):
    week: dt.date = Field(description="any day of the week to plan")
    time_limit: float | None = Field(None, gt=0, le=600, description="seconds")


class SlotPerson(Schema):
    id: UUID
    name: str
    extension: str


class EditOut(Schema):
    kind: str
    reason: str
    detail: dict
    warnings: list[str]
    by: str | None
    at: dt.datetime

    @staticmethod
    def resolve_warnings(obj) -> list[str]:
        return [describe_break(item) for item in obj.warnings or []]

    @staticmethod
    def resolve_by(obj) -> str | None:
        return sign_in_name(obj.by) if obj.by else None


class TimetableOut(Schema):
    id: UUID
    week_start: dt.date
    status: str
    turns: list[str]
    days: list[str]
    lines: list[list[int]]
    grid: list[list[list[SlotPerson]]]
    report: dict
    warnings: list[str]
    edits: list[EditOut]


class TimetableSummary(Schema):
    id: UUID = Field(validation_alias="public_id")
    week_start: dt.date
    status: str
    created_at: dt.datetime
    published_at: dt.datetime | None


class Pick(Schema):
    person: UUID
    day: int = Field(ge=0)
    turn: int = Field(ge=0)


class EditIn(Schema):
    kind: Literal["swap", "replace", "add_line", "remove_line"]
    reason: str = Field(min_length=1, max_length=300)
    day: int | None = Field(None, ge=0)
    turn: int | None = Field(None, ge=0)
    person: UUID | None = None
    new_person: UUID | None = None
    first: Pick | None = None
    second: Pick | None = None

    @model_validator(mode="after")
    def _needs(self):
        if self.kind == "swap" and (self.first is None or self.second is None):
            raise ValueError("a swap needs first and second")
        if self.kind != "swap" and (self.day is None or self.turn is None):
            raise ValueError(f"{self.kind} needs day and turn")
        if self.kind == "replace" and (self.person is None or self.new_person is None):
            raise ValueError("a replace needs person and new_person")
        return self


class OnCallOut(Schema):
    at: dt.datetime
    turn: str | None
    people: list[SlotPerson]


class RingingIn(Schema):
    phone: str = Field(max_length=20, description="the caller, E.164")
    extension: str = Field(min_length=1, max_length=20, pattern=r"^[0-9]+$")

    _phone = field_validator("phone")(check_phone)


class CallOut(Schema):
    id: UUID = Field(validation_alias="public_id")
    phone: str
    extension: str
    taken_by: str | None
    at: dt.datetime
    note: str

    @staticmethod
    def resolve_taken_by(obj) -> str | None:
        return sign_in_name(obj.taken_by) if obj.taken_by else None


class CallPatch(PatchSchema):
    note: str = Field(max_length=10_000)


class SettingsOut(Schema):
    turns: list[str]
    days: list[int]
    lines: int
    lunch_pairs: list[list[int]]
    weights: dict[str, int]
    time_budget: int
    program_queue: bool
    queue_name: str
    lookup_url: str
    max_overload: int
    max_per_desk: int | None
    no_split_days: bool
    max_empty_per_turn: int | None
    closed_days: list[str]
    team_message_url: str
    team_feed: str

    @staticmethod
    def resolve_team_feed(obj) -> str:
        from django.conf import settings

        return f"{settings.BASE_URL}/oncall/feeds/{obj.team_feed_token}.ics"


class SettingsPatch(PatchSchema):
    """Only the fields sent are changed."""

    # null: no cap.
    nullable = frozenset({"max_per_desk", "max_empty_per_turn"})

    turns: list[str] | None = Field(None, description='e.g. ["09:00-10:15", "10:15-11:30"]')
    days: list[int] | None = Field(None, description="0 = Monday")
    lines: int | None = Field(None, ge=0, le=100)
    lunch_pairs: list[list[int]] | None = None
    weights: dict[str, int] | None = None
    time_budget: int | None = Field(None, ge=1, le=3600)
    program_queue: bool | None = None
    queue_name: str | None = Field(None, max_length=80)
    lookup_url: str | None = Field(None, max_length=200)
    max_overload: int | None = Field(
        None, ge=0, le=100, description="turns a person may take above their ideal load"
    )
    max_per_desk: int | None = Field(
        None, ge=1, le=100, description="most people of one desk in a turn; null: no cap"
    )
    no_split_days: bool | None = Field(None, description="a person's turns of a day are together")
    max_empty_per_turn: int | None = Field(
        None, ge=0, le=100, description="most empty lines in a turn; null: no cap"
    )
    closed_days: list[dt.date] | None = Field(
        None, description='organization holidays, nobody scheduled: ["2026-12-25"]'
    )

    @field_validator("closed_days")
    @classmethod
    def _closed_days(cls, value):
        if value is not None and len(set(value)) != len(value):
            raise ValueError("each closed day is listed once")
        return value

    @field_serializer("closed_days")
    def _closed_days_as_text(self, value):
        # Stored in a JSON field: ISO text, in date order.
        return None if value is None else [day.isoformat() for day in sorted(value)]

    team_message_url: str | None = Field(None, max_length=500, description="an Apprise URL")
