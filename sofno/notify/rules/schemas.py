"""API schemas of rules, templates, SMTP profiles and escalation policies."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, get_args
from uuid import UUID

from ninja import Schema
from pydantic import AfterValidator, Field, field_validator
from pydantic_core import PydanticCustomError

from sofno.core.channels import RULE_CHANNELS, Channel
from sofno.core.schemas import InSchema, PatchSchema, check_email
from sofno.notify import reasons
from sofno.notify.routing.quiet import QuietAction
from sofno.notify.rule_models import RecipientKind, Scope

# Spelled out for the OpenAPI schema and mypy; checked against the one list.
ChannelName = Literal["email", "sms", "voice", "call_patch", "inapp", "webpush", "apprise"]
assert set(get_args(ChannelName)) == set(RULE_CHANNELS), "ChannelName drifted from RULE_CHANNELS"
EmailStr = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(check_email)]
OpName = Literal["eq", "ne", "in", "contains", "exists", "gte", "lte"]


class RecipientIn(InSchema):
    kind: RecipientKind
    value: str | list[str] | None = None


class ConditionIn(InSchema):
    token: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")
    op: OpName = "eq"
    value: str | int | float | bool | list[str] | None = None


class RuleIn(InSchema):
    name: str = Field(min_length=1, max_length=120)
    enabled: bool = True
    event_types: list[str] = Field(min_length=1, max_length=50)
    conditions: list[ConditionIn] = Field(default=[], max_length=20)
    ticket_status_from: str = Field(default="", max_length=60)
    ticket_status_to: str = Field(default="", max_length=60)
    scope: Scope = Scope.ORGANIZATION
    customer: UUID | None = None
    device: UUID | None = None
    recipients: list[RecipientIn] = Field(default=[], max_length=20)
    channels: list[ChannelName] = Field(default=[], max_length=len(RULE_CHANNELS))
    apprise_urls: list[str] = Field(default=[], max_length=10)
    quiet_action: QuietAction = QuietAction.DEFER
    business_hours_only: bool = False
    fallback_user: UUID | None = Field(default=None, description="a membership id")
    escalation_policy: UUID | None = None
    open_ticket_after_minutes: int | None = Field(default=None, ge=1, le=10080)


class RulePatch(PatchSchema):
    name: str = Field(default="", min_length=1, max_length=120)
    enabled: bool = True
    event_types: list[str] = Field(default=[], min_length=1, max_length=50)
    conditions: list[ConditionIn] = Field(default=[], max_length=20)
    ticket_status_from: str = Field(default="", max_length=60)
    ticket_status_to: str = Field(default="", max_length=60)
    recipients: list[RecipientIn] = Field(default=[], max_length=20)
    channels: list[ChannelName] = Field(default=[], max_length=len(RULE_CHANNELS))
    apprise_urls: list[str] = Field(default=[], max_length=10)
    quiet_action: QuietAction = QuietAction.DEFER
    business_hours_only: bool = False
    # 0 switches it off (a patch may not send null).
    open_ticket_after_minutes: int = Field(default=0, ge=0, le=10080)


class RuleOut(Schema):
    id: UUID = Field(alias="public_id")
    name: str
    enabled: bool
    event_types: list[str]
    conditions: list[dict]
    ticket_status_from: str
    ticket_status_to: str
    scope: str
    customer: UUID | None = None
    device: UUID | None = None
    recipients: list[dict]
    channels: list[str]
    apprise_urls: list[str]
    quiet_action: str
    business_hours_only: bool
    escalation_policy: UUID | None = None
    open_ticket_after_minutes: int | None = None
    managed_by: str = ""
    created_at: dt.datetime

    @staticmethod
    def resolve_customer(obj) -> UUID | None:
        return obj.customer.public_id if obj.customer_id else None

    @staticmethod
    def resolve_device(obj) -> UUID | None:
        return obj.device.public_id if obj.device_id else None

    @staticmethod
    def resolve_escalation_policy(obj) -> UUID | None:
        return obj.escalation_policy.public_id if obj.escalation_policy_id else None


class NotificationTemplateIn(InSchema):
    name: str = Field(min_length=1, max_length=120)
    event_type: str = Field(min_length=1, max_length=100)
    channel: ChannelName
    language: Literal["en", "es", "it"] = "en"
    subject: str = Field(default="", max_length=500)
    html_body: str = Field(default="", max_length=100_000)
    text_body: str = Field(default="", max_length=100_000)
    from_name: str = Field(default="", max_length=120)
    to: list[EmailStr] = Field(default=[], max_length=20)
    cc: list[EmailStr] = Field(default=[], max_length=20)
    bcc: list[EmailStr] = Field(default=[], max_length=20)
    smtp_profile: UUID | None = None


class TemplatePatch(PatchSchema):
    name: str = Field(default="", min_length=1, max_length=120)
    subject: str = Field(default="", max_length=500)
    html_body: str = Field(default="", max_length=100_000)
    text_body: str = Field(default="", max_length=100_000)
    from_name: str = Field(default="", max_length=120)
    to: list[EmailStr] = Field(default=[], max_length=20)
    cc: list[EmailStr] = Field(default=[], max_length=20)
    bcc: list[EmailStr] = Field(default=[], max_length=20)


class NotificationTemplateOut(Schema):
    id: UUID = Field(alias="public_id")
    name: str
    event_type: str
    channel: str
    language: str
    subject: str
    html_body: str
    text_body: str
    from_name: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    smtp_profile: UUID | None = None

    @staticmethod
    def resolve_smtp_profile(obj) -> UUID | None:
        return obj.smtp_profile.public_id if obj.smtp_profile_id else None


# OpenAPI files schemas by class name: command templates have their own.
TemplateIn, TemplateOut = NotificationTemplateIn, NotificationTemplateOut


class PreviewIn(InSchema):
    event_type: str = Field(min_length=1, max_length=100)
    channel: ChannelName = Channel.EMAIL.value
    subject: str = Field(default="", max_length=500)
    html_body: str = Field(default="", max_length=100_000)
    text_body: str = Field(default="", max_length=100_000)


class ProblemOut(Schema):
    field: str
    rule: str
    message: str


class PreviewOut(Schema):
    subject: str
    html: str
    text: str
    problems: list[ProblemOut]
    sample: dict


class SmtpProfileIn(InSchema):
    name: str = Field(min_length=1, max_length=120)
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=25, ge=1, le=65535)
    tls_mode: Literal["none", "starttls", "tls"] = "none"
    username: str = Field(default="", max_length=255)
    password: str = Field(default="", max_length=500)
    from_name: str = Field(default="", max_length=120)
    from_address: EmailStr
    is_default: bool = False

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if any(c in value for c in " /:@"):
            raise PydanticCustomError("hostname", "a host name or address, without port or scheme")
        return value


class SmtpProfilePatch(PatchSchema):
    name: str = Field(default="", min_length=1, max_length=120)
    host: str = Field(default="", min_length=1, max_length=255)
    port: int = Field(default=25, ge=1, le=65535)
    tls_mode: Literal["none", "starttls", "tls"] = "none"
    username: str = Field(default="", max_length=255)
    password: str = Field(default="", max_length=500)
    from_name: str = Field(default="", max_length=120)
    from_address: EmailStr = "x@example.com"


class SmtpProfileOut(Schema):
    id: UUID = Field(alias="public_id")
    name: str
    host: str
    port: int
    tls_mode: str
    username: str
    has_password: bool
    from_name: str
    from_address: str
    is_default: bool

    @staticmethod
    def resolve_has_password(obj) -> bool:
        return bool(obj.password_encrypted)


class StepIn(InSchema):
    recipients: list[RecipientIn] = Field(min_length=1, max_length=20)
    channels: list[ChannelName] = Field(default=[], max_length=len(RULE_CHANNELS))
    wait_minutes: int = Field(default=5, ge=0, le=24 * 60)


class PolicyIn(InSchema):
    name: str = Field(min_length=1, max_length=120)
    steps: list[StepIn] = Field(min_length=1, max_length=20)
    repeat: int = Field(default=0, ge=0, le=10)


class PolicyOut(Schema):
    id: UUID = Field(alias="public_id")
    name: str
    steps: list[dict]
    repeat: int


class EvaluationOut(Schema):
    rule: UUID | None = None
    rule_name: str
    matched: bool
    reasons: list[str]
    reason_codes: list[str] = Field(
        description="Beside each reason, its code to match on (notify reasons); empty "
        "for a reason that has none."
    )
    deliveries: int

    @staticmethod
    def resolve_rule(obj) -> UUID | None:
        return obj.rule.public_id if obj.rule_id else None

    @staticmethod
    def resolve_rule_name(obj) -> str:
        return obj.name_text

    @staticmethod
    def resolve_reasons(obj) -> list[str]:
        """In the request's language."""
        return [reasons.text(entry) for entry in obj.reasons or []]

    @staticmethod
    def resolve_reason_codes(obj) -> list[str]:
        return [reasons.code_of(entry) for entry in obj.reasons or []]


class RoutedDeliveryOut(Schema):
    id: UUID = Field(alias="public_id")
    channel: str
    address: str
    recipient: str
    status: str
    due_at: dt.datetime = Field(alias="next_attempt_at")
    deferred_reason: str
    deferred_code: str = Field(
        description="Why it waits or went through quiet hours, to match on: quiet_through, "
        "deferred_quiet, deferred_hours, deferred_quiet_hours; empty when sent as planned."
    )
    last_detail: str

    @staticmethod
    def resolve_recipient(obj) -> str:
        message = getattr(obj, "message", None)
        return message.recipient_name if message else ""

    @staticmethod
    def resolve_deferred_reason(obj) -> str:
        """In the request's language."""
        message = getattr(obj, "message", None)
        return message.deferred_text if message else ""

    @staticmethod
    def resolve_deferred_code(obj) -> str:
        message = getattr(obj, "message", None)
        return message.deferred_code if message else ""

    @staticmethod
    def resolve_last_detail(obj) -> str:
        """Why a cancelled escalation delivery was cancelled, in the request's language."""
        return obj.detail_text


class RoutingOut(Schema):
    evaluations: list[EvaluationOut]
    deliveries: list[RoutedDeliveryOut]
