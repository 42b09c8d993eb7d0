"""Shared model foundations: the fields most models repeat, and validated saving.

``OrganizationOwned``, ``CreatedAt`` and ``Timestamped`` are abstract bases for the
fields dozens of models carry identically (a random public id, the tenant, the
creation and change times), so a rule about them (no reverse accessor on
``Organization``, time set once) is written once.

Saving a model so that every rule it breaks becomes a field error:

Database constraints spanning several columns (``UniqueConstraint`` on
``customer`` + ``contact_type``) report to no field in Django; a model lists in
``CONSTRAINT_FIELDS`` which field and rule each constraint belongs to, so the API
and the forms name the field the person can change. A constraint that a concurrent
writer breaks between the check and the write (``IntegrityError``) is reported the
same way instead of as a 500.

Actions set the given fields with :func:`apply_fields` and store the result with
:func:`save_audited`, so every change is validated the same way and leaves its audit
row.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, router, transaction
from django.utils import timezone as django_tz


class OrganizationOwned(models.Model):
    """A row of one organization, named outside by a random public id.

    - ``public_id`` goes in URLs and the API; the primary key never leaves the server;
    - ``organization`` has no reverse accessor (``related_name="+"``): code asks the
      model itself, scoped (``Device.objects.filter(organization=org)``), so the
      tenant filter is written where it is read;
    - deleting the organization deletes the row.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "core.Organization", on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        abstract = True


class CreatedAt(models.Model):
    """When the row was written, set once."""

    created_at = models.DateTimeField(default=django_tz.now, editable=False)

    class Meta:
        abstract = True


class Timestamped(CreatedAt):
    """When the row was written, and when it was last saved."""

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


if TYPE_CHECKING:  # access imports the models, which import this module
    from sofno.core.access import Actor


def field_error(field: str, message: str, rule: str = "invalid") -> ValidationError:
    """A ``ValidationError`` naming ``field`` with the ``rule`` as its code."""
    return ValidationError({field: ValidationError(message, code=rule)})


class FieldConstraintsMixin(models.Model):
    """``CONSTRAINT_FIELDS = {"constraint_name": ("field", "rule")}``."""

    CONSTRAINT_FIELDS: dict[str, tuple[str, str]] = {}

    class Meta:
        abstract = True

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        """Django's check, with each listed constraint's error moved to its field."""
        using = router.db_for_write(self.__class__, instance=self)
        errors: dict[str, list[ValidationError]] = {}
        for model_class, constraints in self.get_constraints():
            for constraint in constraints:
                try:
                    constraint.validate(model_class, self, exclude=exclude, using=using)  # type: ignore[arg-type]
                except ValidationError as exc:
                    field, rule = self.CONSTRAINT_FIELDS.get(
                        constraint.name, (NON_FIELD_ERRORS, exc.code or "constraint")
                    )
                    message = " ".join(exc.messages)
                    errors.setdefault(field, []).append(ValidationError(message, code=rule))
        if errors:
            raise ValidationError(errors)


def apply_fields(
    instance: models.Model, fields: Mapping[str, Any], allowed: Collection[str] | None = None
) -> list[str]:
    """Set each of ``fields`` on ``instance``; returns the names set, sorted.

    - with ``allowed``, a name outside it is refused (rule ``unknown``, naming the
      first such field in sorted order) before anything is set.
    """
    if allowed is not None:
        unknown = sorted(set(fields) - set(allowed))
        if unknown:
            raise field_error(unknown[0], "unknown field", "unknown")
    for name, value in fields.items():
        setattr(instance, name, value)
    return sorted(fields)


def save_validated(
    instance: models.Model, *, exclude: Collection[str] | None = None, **save_kwargs: Any
) -> None:
    """``full_clean()`` then ``save()``; a constraint lost to a race is a field error.

    - ``exclude``: fields the server derives, left out of the check (as in
      ``full_clean``); ``save_kwargs`` go to ``save()`` (``update_fields``).
    """
    instance.full_clean(exclude=exclude)
    try:
        with transaction.atomic():
            instance.save(**save_kwargs)
    except IntegrityError:
        # Someone else wrote the conflicting row after our check: check again to
        # name the field; if nothing is found the error is not the client's.
        instance.validate_constraints()
        raise


def save_audited(
    actor: Actor,
    instance: models.Model,
    action: str,
    *,
    update_fields: Collection[str] | None = None,
    exclude: Collection[str] | None = None,
    **detail: object,
) -> None:
    """Validate and save ``instance`` (:func:`save_validated`), then audit ``action``.

    - nothing is audited when the instance is refused;
    - ``detail`` is the audit row's detail, as in :meth:`Actor.audit`.
    """
    save_validated(instance, exclude=exclude, update_fields=update_fields)
    actor.audit(action, instance, **detail)
