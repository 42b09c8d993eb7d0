"""Validators shared by model forms and API schemas, so both say the same thing.

Each Django validator raises with a stable ``code`` that the API reports as the
``rule`` of a field error; the pydantic side (``sofno.core.schemas``) uses the same
names.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pydantic import ValidationError as PydanticValidationError

from sofno.core.windows import WeeklyWindows, validate_timezone

# ISO 3166-1 alpha-2: every region phonenumbers knows (all inhabited countries and
# territories, plus the widely used XK) and the uninhabited territories it lacks.
COUNTRY_CODES = frozenset(phonenumbers.SUPPORTED_REGIONS) | {
    "AQ",
    "BV",
    "GS",
    "HM",
    "PN",
    "TF",
    "UM",
}


def normalize_phone(value: str) -> str:
    """Return ``value`` in E.164 form, or raise ``ValueError`` naming the rule.

    - It starts with ``+`` and the country code (no national-only numbers).
    - It parses, and is a valid number for its country (length, prefixes).
    """
    text = (value or "").strip()
    if not text.startswith("+"):
        raise ValueError(
            _("phone must be in international E.164 form, starting with + and the country code")
        )
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(_("phone is not a phone number: %(reason)s") % {"reason": exc}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("phone is not a valid number for its country"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(value: str) -> None:
    """Django field validator wrapping :func:`normalize_phone`."""
    if not value:
        return
    try:
        normalize_phone(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="phone") from None


def normalize_country(value: str) -> str:
    """Return an ISO 3166-1 alpha-2 code in upper case, or raise ``ValueError``."""
    code = (value or "").strip().upper()
    if code not in COUNTRY_CODES:
        raise ValueError(
            _("%(value)r is not an ISO 3166-1 alpha-2 country code (e.g. IT, ES, US)")
            % {"value": value}
        )
    return code


def validate_country(value: str) -> None:
    """Django field validator: empty, or a known upper-case ISO 3166-1 alpha-2 code."""
    if not value:
        return
    if value != value.upper():
        raise ValidationError(_("country code must be upper case (e.g. IT)"), code="country")
    try:
        normalize_country(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="country") from None


def validate_timezone_field(value: str) -> None:
    """Django field validator for IANA timezone names."""
    try:
        validate_timezone(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="timezone") from None


def validate_no_nul(value: str) -> None:
    """Django field validator: PostgreSQL cannot store the NUL character in text."""
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(
            _("text may not contain NUL (\\x00) characters"), code="nul_character"
        )


def validate_weekly_windows(value: dict[str, Any] | None) -> None:
    """Django field validator for JSON holding :class:`WeeklyWindows`.

    The error code is the rule that failed (``inverted_range``,
    ``overlapping_ranges``, ``timezone``, ...), as the API reports it.
    """
    if value in (None, {}):
        return
    if not isinstance(value, dict):
        raise ValidationError(_('expected {"ranges": [...]}'), code="windows")
    try:
        WeeklyWindows.model_validate(value)
    except PydanticValidationError as exc:
        errors = exc.errors()
        messages = "; ".join(err["msg"].removeprefix("Value error, ") for err in errors)
        raise ValidationError(messages, code=errors[0]["type"]) from None
