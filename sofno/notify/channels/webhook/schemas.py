"""API schemas of webhook endpoints and deliveries."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from ninja import Field, Schema
from pydantic import field_validator

from sofno.core.schemas import PatchSchema
from sofno.events.schemas import _check_filter
from sofno.notify.models import OrderingMode


class ParameterIn(Schema):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
    value: str = Field("", max_length=1000, examples=["{{ customer.name }}"])


class EndpointIn(Schema):
    url: str = Field(max_length=2048, examples=["https://example.com/hooks/sofno"])
    description: str = Field("", max_length=300)
    event_types: list[str] = []
    headers: dict[str, str] = {}
    parameters: list[ParameterIn] = []
    enabled: bool = True
    ordering: OrderingMode = OrderingMode.UNORDERED
    rate_limit: int | None = Field(None, ge=1, le=10000, description="deliveries per second")

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return _check_filter(value)


class EndpointPatch(PatchSchema):
    nullable = frozenset({"rate_limit"})  # null: no limit

    url: str | None = Field(None, max_length=2048)
    description: str | None = Field(None, max_length=300)
    event_types: list[str] | None = None
    headers: dict[str, str] | None = None
    parameters: list[ParameterIn] | None = None
    enabled: bool | None = None
    ordering: OrderingMode | None = None
    rate_limit: int | None = Field(None, ge=1, le=10000)

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str] | None) -> list[str] | None:
        return _check_filter(value) if value is not None else value


class EndpointOut(Schema):
    id: UUID = Field(alias="public_id")
    url: str
    description: str
    event_types: list[str]
    headers: dict[str, str]
    parameters: list[ParameterIn]
    enabled: bool
    ordering: str
    rate_limit: int | None
    disabled_reason: str
    disabled_code: str = Field(
        description="Why it was turned off, to match on: webhook_gone, webhook_failing, "
        "webhook_by_hand; empty while enabled or when turned off before codes existed."
    )
    failing_since: dt.datetime | None
    last_success_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_disabled_reason(obj) -> str:
        """In the request's language (``notify.reasons``)."""
        return obj.disabled_text


class EndpointCreated(EndpointOut):
    secret: str = Field(description="shown here and by GET .../secret; sign check with it")

    @staticmethod
    def resolve_secret(obj) -> str:
        return obj.current_secret


class SecretOut(Schema):
    secret: str
    previous: list[str] = Field(description="older secrets still signing during a rotation")


class AttemptOut(Schema):
    number: int
    trigger: str
    started_at: dt.datetime
    duration_ms: int
    ok: bool
    status_code: int | None
    detail: str
    response: str
    next_attempt_at: dt.datetime | None


class DeliveryOut(Schema):
    id: UUID = Field(alias="public_id")
    webhook_id: str
    event_id: UUID
    event_type: str
    endpoint_id: UUID | None
    status: str
    attempt_count: int
    next_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_detail: str
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @staticmethod
    def resolve_webhook_id(obj) -> str:
        return obj.message_id

    @staticmethod
    def resolve_event_id(obj) -> UUID:
        return obj.event.public_id

    @staticmethod
    def resolve_event_type(obj) -> str:
        return obj.event.type

    @staticmethod
    def resolve_endpoint_id(obj) -> UUID | None:
        return obj.endpoint.public_id if obj.endpoint_id else None

    @staticmethod
    def resolve_next_attempt_at(obj) -> dt.datetime | None:
        return obj.next_attempt_at if obj.status == "pending" else None


class DeliveryDetail(DeliveryOut):
    attempts: list[AttemptOut]

    @staticmethod
    def resolve_attempts(obj) -> list:
        return list(obj.attempts.all())
