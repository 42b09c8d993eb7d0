"""Contacts and the organization's contact types."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from sofno.core.access import Actor
from sofno.core.modeling import apply_fields, save_audited, save_validated
from sofno.core.models import Organization
from sofno.directory.models import DEFAULT_CONTACT_TYPES, Contact, ContactType, Customer
from sofno.directory.selectors import customers_for


def ensure_default_contact_types(organization: Organization) -> None:
    """Give a new organization the usual contact types (service, billing, manager)."""
    for slug, name in DEFAULT_CONTACT_TYPES:
        ContactType.objects.get_or_create(
            organization=organization, slug=slug, defaults={"name": str(name)}
        )


def resolve_contact_type(actor: Actor, slug: str) -> ContactType:
    """The organization's contact type with ``slug``, or a ``contact_type`` error."""
    found = ContactType.objects.filter(organization=actor.organization, slug=slug).first()
    if found is None:
        raise ValidationError(
            {
                "contact_type": ValidationError(
                    _("unknown contact type %(slug)r") % {"slug": slug}, code="unknown"
                )
            }
        )
    return found


def resolve_customer(actor: Actor, public_id: UUID) -> Customer:
    """A customer the actor may see, or a ``customer`` error (never another tenant's)."""
    found = customers_for(actor).filter(public_id=public_id).first()
    if found is None:
        raise ValidationError(
            {
                "customer": ValidationError(
                    _("unknown customer %(id)s") % {"id": public_id}, code="unknown"
                )
            }
        )
    return found


def _save_contact(actor: Actor, contact: Contact, fields: dict[str, Any]) -> None:
    if "customer" in fields:
        fields["customer"] = resolve_customer(actor, fields["customer"])
    if "contact_type" in fields:
        fields["contact_type"] = resolve_contact_type(actor, fields["contact_type"])
    apply_fields(contact, fields)
    save_validated(contact)


@transaction.atomic
def create_contact(*, acting_user: Actor, fields: dict[str, Any]) -> Contact:
    """Add a contact to one of the organization's customers.

    - ``customer`` is a customer id, ``contact_type`` a contact type slug.
    - At most one primary contact per type per customer (``is_primary`` error).
    """
    acting_user.require_write()
    contact = Contact(organization=acting_user.organization)
    _save_contact(acting_user, contact, dict(fields))
    acting_user.audit("contact.created", contact, name=contact.name)
    return contact


@transaction.atomic
def update_contact(*, acting_user: Actor, contact: Contact, fields: dict[str, Any]) -> Contact:
    """Change the given fields of a contact; nothing is saved if any is invalid."""
    acting_user.require_write()
    _save_contact(acting_user, contact, dict(fields))
    acting_user.audit("contact.updated", contact, fields=sorted(fields))
    return contact


@transaction.atomic
def delete_contact(*, acting_user: Actor, contact: Contact) -> None:
    """Delete a contact."""
    acting_user.require_write()
    acting_user.audit("contact.deleted", contact, name=contact.name)
    contact.delete()


@transaction.atomic
def create_contact_type(*, acting_user: Actor, slug: str, name: str) -> ContactType:
    """Add a contact type (owners, admins); slugs are unique per organization."""
    acting_user.require_admin()
    contact_type = ContactType(organization=acting_user.organization, slug=slug, name=name)
    save_audited(acting_user, contact_type, "contact_type.created", slug=slug)
    return contact_type


@transaction.atomic
def update_contact_type(
    *, acting_user: Actor, contact_type: ContactType, fields: dict[str, Any]
) -> ContactType:
    """Rename a contact type or change its slug (owners, admins)."""
    acting_user.require_admin()
    changed = apply_fields(contact_type, fields)
    save_audited(acting_user, contact_type, "contact_type.updated", fields=changed)
    return contact_type


@transaction.atomic
def delete_contact_type(*, acting_user: Actor, contact_type: ContactType) -> None:
    """Delete a contact type that no contact uses (owners, admins)."""
    acting_user.require_admin()
    in_use = contact_type.contacts.count()
    if in_use:
        raise ValidationError(
            {
                "contact_type": ValidationError(
                    _("%(count)d contact(s) still have this type; change them first")
                    % {"count": in_use},
                    code="in_use",
                )
            }
        )
    acting_user.audit("contact_type.deleted", contact_type, slug=contact_type.slug)
    contact_type.delete()
