"""What can be imported and exported: customers, contacts and devices.

Each kind names its columns, how a cell becomes a field value, how an existing row is
found (its ``id``, else a natural key: a customer's name, a contact's or a device's
customer and name), and which action saves it. Saving goes through the same actions
as the API and the pages, so an imported row obeys exactly the same rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from sofno.core.access import Actor
from sofno.core.validators import normalize_country, normalize_phone
from sofno.directory.actions import contacts as contact_actions
from sofno.directory.actions import customers as customer_actions
from sofno.directory.models import Contact, Customer
from sofno.monitoring import actions as device_actions
from sofno.monitoring.models import Device

_TRUE = {"yes", "y", "true", "1", "sí", "si", "sì", "x"}
_FALSE = {"no", "n", "false", "0"}


class CellError(Exception):
    """A cell that cannot become a value (the message names the rule)."""


def text(value: str) -> str:
    """A cell as text."""
    return value


def boolean(value: str) -> bool:
    """yes/no in any shipped language, true/false or 1/0."""
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise CellError(_("expected yes or no, got %(value)r") % {"value": value})


def whole_number(value: str) -> int:
    """A whole number of zero or more."""
    if not value.isdigit():
        raise CellError(_("expected a whole number, got %(value)r") % {"value": value})
    return int(value)


def phone(value: str) -> str:
    """A phone number in international form, stored as E.164 (as the API stores it)."""
    try:
        return normalize_phone(value)
    except ValueError as exc:
        raise CellError(str(exc)) from None


def country(value: str) -> str:
    """An ISO 3166 country code, upper case as stored."""
    try:
        return normalize_country(value)
    except ValueError as exc:
        raise CellError(str(exc)) from None


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Column:
    """One column: its header, the field it fills, and how to read and write it."""

    name: str
    parse: Callable[[str], Any] = text
    show: Callable[[Any], str] = str
    field: str = ""

    @property
    def target(self) -> str:
        return self.field or self.name


@dataclass(frozen=True)
class Kind:
    """A kind of row that can move in and out."""

    name: str
    columns: tuple[Column, ...]
    required: tuple[str, ...]
    queryset: Callable[[Actor], QuerySet]
    natural_key: Callable[[dict[str, Any]], tuple]
    key_of: Callable[[Model], tuple]
    create: Callable[[Actor, dict[str, Any]], tuple[Model, str | None]]
    update: Callable[[Actor, Model, dict[str, Any]], Model]
    export_row: Callable[[Model], list[str]]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def customer_for(actor: Actor, value: str) -> Customer:
    """The organization's customer named by id or (unique) name."""
    customers = Customer.objects.filter(organization=actor.organization)
    try:
        return customers.get(public_id=uuid.UUID(value))
    except (ValueError, Customer.DoesNotExist):
        pass
    found = list(customers.filter(name__iexact=value)[:2])
    if not found:
        raise CellError(_("no customer is named %(name)r") % {"name": value})
    if len(found) > 1:
        raise CellError(_("several customers are named %(name)r: give its id") % {"name": value})
    return found[0]


# --- customers ----------------------------------------------------------------------

_CUSTOMER_COLUMNS = (
    Column("name"),
    Column("address"),
    Column("city"),
    Column("region"),
    Column("country", country),
    Column("timezone"),
    Column("email"),
    Column("notes"),
    Column("active", boolean, _yes_no),
    Column("alerts_enabled", boolean, _yes_no),
)


def _create_customer(actor: Actor, fields: dict[str, Any]) -> tuple[Model, str | None]:
    return customer_actions.create_customer(acting_user=actor, fields=fields), None


def _update_customer(actor: Actor, customer: Model, fields: dict[str, Any]) -> Model:
    return customer_actions.update_customer(acting_user=actor, customer=customer, fields=fields)


CUSTOMERS = Kind(
    name="customers",
    columns=_CUSTOMER_COLUMNS,
    required=("name",),
    queryset=lambda actor: Customer.objects.filter(organization=actor.organization),
    natural_key=lambda fields: (fields["name"].casefold(),),
    key_of=lambda customer: (customer.name.casefold(),),
    create=_create_customer,
    update=_update_customer,
    export_row=lambda c: (
        [str(c.public_id)] + [col.show(getattr(c, col.target)) for col in _CUSTOMER_COLUMNS]
    ),
)


# --- contacts -----------------------------------------------------------------------

_CONTACT_COLUMNS = (
    Column("customer", show=lambda customer: customer.name),
    Column("name"),
    Column("email"),
    Column("phone", phone),
    Column("contact_type", show=lambda contact_type: getattr(contact_type, "slug", contact_type)),
    Column("is_primary", boolean, _yes_no),
    Column("notes"),
)


def _create_contact(actor: Actor, fields: dict[str, Any]) -> tuple[Model, str | None]:
    fields = {**fields, "customer": fields["customer"].public_id}
    return contact_actions.create_contact(acting_user=actor, fields=fields), None


def _update_contact(actor: Actor, contact: Model, fields: dict[str, Any]) -> Model:
    if "customer" in fields:
        fields = {**fields, "customer": fields["customer"].public_id}
    return contact_actions.update_contact(acting_user=actor, contact=contact, fields=fields)


CONTACTS = Kind(
    name="contacts",
    columns=_CONTACT_COLUMNS,
    required=("customer", "name"),
    queryset=lambda actor: Contact.objects.filter(organization=actor.organization).select_related(
        "customer", "contact_type"
    ),
    natural_key=lambda fields: (fields["customer"].pk, fields["name"].casefold()),
    key_of=lambda contact: (contact.customer_id, contact.name.casefold()),
    create=_create_contact,
    update=_update_contact,
    export_row=lambda c: (
        [str(c.public_id)] + [col.show(getattr(c, col.target)) for col in _CONTACT_COLUMNS]
    ),
)


# --- devices ------------------------------------------------------------------------

_DEVICE_COLUMNS = (
    Column("customer", show=lambda customer: customer.name),
    Column("name"),
    Column("os"),
    Column("pos_software"),
    Column("description"),
    Column("active", boolean, _yes_no),
    Column("checkin_interval", whole_number, _number),
    Column("grace", whole_number, _number),
)


def _create_device(actor: Actor, fields: dict[str, Any]) -> tuple[Model, str | None]:
    fields = dict(fields)
    customer = fields.pop("customer")
    return device_actions.create_device(acting_user=actor, customer=customer, fields=fields)


def _update_device(actor: Actor, device: Model, fields: dict[str, Any]) -> Model:
    return device_actions.update_device(acting_user=actor, device=device, fields=dict(fields))


DEVICES = Kind(
    name="devices",
    columns=_DEVICE_COLUMNS,
    required=("customer", "name"),
    queryset=lambda actor: Device.objects.filter(organization=actor.organization).select_related(
        "customer"
    ),
    natural_key=lambda fields: (fields["customer"].pk, fields["name"].casefold()),
    key_of=lambda device: (device.customer_id, device.name.casefold()),
    create=_create_device,
    update=_update_device,
    export_row=lambda d: (
        [str(d.public_id)] + [col.show(getattr(d, col.target)) for col in _DEVICE_COLUMNS]
    ),
)

KINDS: dict[str, Kind] = {kind.name: kind for kind in (CUSTOMERS, CONTACTS, DEVICES)}


def errors_by_field(exc: ValidationError) -> dict[str, list[str]]:
    """A model or action ``ValidationError`` as messages per field ("" for none)."""
    if hasattr(exc, "error_dict"):
        return {
            ("" if field == "__all__" else field): [m for e in errors for m in e.messages]
            for field, errors in exc.error_dict.items()
        }
    return {"": list(exc.messages)}
