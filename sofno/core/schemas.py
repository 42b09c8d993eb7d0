"""Schema pieces shared by every app's API.

Request bodies derive from :class:`InSchema` (unknown fields and text no database
can store are refused) or :class:`PatchSchema` (partial updates: an explicit null
is refused too, except on the fields a schema lists as ``nullable``, and the OpenAPI
document says so). Query filters derive from :class:`FilterIn`. Every check raises a
pydantic error whose type is the ``rule`` the API reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from ninja import FilterSchema, Schema
from pydantic import (
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sofno.core.validators import normalize_country, normalize_phone
from sofno.core.windows import TimeRange, check_no_overlap, validate_timezone


def _storable(value: Any) -> Any:
    """Refuse NUL characters anywhere in text: PostgreSQL cannot store them."""
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("nul_character", _("text may not contain NUL (\\x00) characters"))
    if isinstance(value, list | tuple):
        for item in value:
            _storable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key)
            _storable(item)
    return value


class _StorableText(Schema):
    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return _storable(value)


class InSchema(_StorableText):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


# A wall-clock time of day in someone's own timezone ("09:00:00"). JSON Schema's
# "format: time" demands an offset (RFC 3339), which a local time has not, so the
# document describes it by its pattern.
LocalTime = Annotated[
    dt.time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
            "examples": ["09:00:00"],
        }
    ),
]


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A property's JSON schema with the ``null`` alternative (and a null default) taken out."""
    prop = dict(prop)
    variants = [v for v in prop.pop("anyOf", []) if v != {"type": "null"}]
    if len(variants) == 1:
        prop = {**variants[0], **prop}
    elif variants:
        prop["anyOf"] = variants
    if "default" in prop and prop["default"] is None:
        del prop["default"]
    return prop


def _document_nulls(schema: dict[str, Any], model: type[PatchSchema]) -> None:
    # Patch fields are typed ``X | None`` so they may be left out; the document must
    # not promise that null is accepted where the validator below refuses it.
    properties = schema.get("properties", {})
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key in properties and name not in model.nullable:
            properties[key] = _without_null(properties[key])


class PatchSchema(InSchema):
    """Partial update: only the fields sent change; ``null`` is refused, not stored.

    - A field left out keeps its value; fields are typed ``X | None = None`` so that
      leaving them out is possible.
    - ``null`` answers 422 with the rule ``null`` and the field's name, except for
      the fields named in ``nullable``, where it clears the value (an inherited
      interval, "no rate limit").
    - The OpenAPI document shows ``null`` only for the ``nullable`` fields.
    """

    nullable: ClassVar[frozenset[str]] = frozenset()

    model_config = ConfigDict(extra="forbid", json_schema_extra=_document_nulls)

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        # Validators do not run on defaults, so a None here was sent explicitly.
        if value is None and info.field_name not in cls.nullable:
            raise PydanticCustomError("null", _("may not be null; leave the field out to keep it"))
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as plain data."""
        return self.model_dump(exclude_unset=True)


class FilterIn(_StorableText, FilterSchema):
    """Base of query filters: text filters with NUL characters are refused."""


class WindowsIn(Schema):
    """Weekly ranges; the timezone comes from the owner (customer, person).

    - Each range has ``start`` before ``end`` (``inverted_range``).
    - Ranges on one day do not overlap (``overlapping_ranges``).
    """

    ranges: list[TimeRange] = Field(default=[], max_length=7 * 24)

    @model_validator(mode="after")
    def _no_overlap(self) -> WindowsIn:
        check_no_overlap(self.ranges)
        return self


def check_email(value: str | None) -> str | None:
    """Pydantic-side email check with Django's rules (empty is allowed)."""
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise PydanticCustomError("email", _("enter a valid email address")) from None
    return value


def check_phone(value: str | None) -> str | None:
    """Pydantic-side phone check: E.164, normalized (empty is allowed)."""
    if not value:
        return value
    try:
        return normalize_phone(value)
    except ValueError as exc:
        raise PydanticCustomError("phone", "{reason}", {"reason": str(exc)}) from None


def check_timezone(value: str | None) -> str | None:
    """Pydantic-side IANA timezone check."""
    if value is None:
        return value
    try:
        return validate_timezone(value)
    except ValueError as exc:
        raise PydanticCustomError("timezone", "{reason}", {"reason": str(exc)}) from None


def check_country(value: str | None) -> str | None:
    """Pydantic-side ISO 3166-1 alpha-2 check, upper-cased (empty is allowed)."""
    if not value:
        return value
    try:
        return normalize_country(value)
    except ValueError as exc:
        raise PydanticCustomError("country", "{reason}", {"reason": str(exc)}) from None


class TimezoneMixin(Schema):
    @field_validator("timezone", check_fields=False)
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return check_timezone(value)
