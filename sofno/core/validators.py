"""Validators shared by model forms and API schemas, so both say the same thing."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from pydantic import ValidationError as PydanticValidationError

from sofno.core.windows import WeeklyWindows, validate_timezone


def normalize_phone(value: str) -> str:
    """Return ``value`` in E.164 form, or raise ``ValueError`` naming the rule."""
    text = (value or "").strip()
    if not text.startswith("+"):
        raise ValueError(
            "phone must be in international E.164 form, starting with + and the country code"
        )
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"phone is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("phone is not a valid number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(value: str) -> None:
    """Django field validator wrapping :func:`normalize_phone`."""
    if not value:
        return
    try:
        normalize_phone(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="phone") from None


def validate_timezone_field(value: str) -> None:
    """Django field validator for IANA timezone names."""
    try:
        validate_timezone(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="timezone") from None


def validate_weekly_windows(value: dict | None) -> None:
    """Django field validator for JSON holding :class:`WeeklyWindows`."""
    if value in (None, {}):
        return
    try:
        WeeklyWindows.model_validate(value)
    except PydanticValidationError as exc:
        messages = "; ".join(err["msg"].removeprefix("Value error, ") for err in exc.errors())
        raise ValidationError(messages, code="windows") from None
