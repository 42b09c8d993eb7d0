"""One way to say which field broke which rule (the API turns it into a 422)."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def field_error(field: str, message: str, rule: str) -> ValidationError:
    """A ``ValidationError`` naming ``field`` with the ``rule`` as its code."""
    return ValidationError({field: ValidationError(message, code=rule)})
