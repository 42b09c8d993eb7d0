"""Schema pieces shared by every app's API."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import field_validator

from sofno.core.validators import normalize_phone
from sofno.core.windows import TimeRange, validate_timezone


class WindowsIn(Schema):
    """Weekly ranges; the timezone comes from the owner (customer, person)."""

    ranges: list[TimeRange] = []


def check_email(value: str | None) -> str | None:
    """Pydantic-side email check with Django's rules (empty is allowed)."""
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("enter a valid email address") from None
    return value


def check_phone(value: str | None) -> str | None:
    """Pydantic-side phone check: E.164, normalized."""
    return normalize_phone(value) if value else value


def check_timezone(value: str | None) -> str | None:
    return validate_timezone(value) if value is not None else value


class TimezoneMixin(Schema):
    @field_validator("timezone", check_fields=False)
    @classmethod
    def _tz(cls, value):
        return check_timezone(value)
