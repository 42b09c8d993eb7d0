"""Onboarding a fleet: many devices created in one call, all or nothing.

Rules:
- At most ``MAX_DEVICES`` per call; each item follows the same rules as one device
  created alone (the ``DeviceIn`` schema, a customer of the organization, a known POS
  software, the model's own field validation).
- Every item is checked before anything is written; any failure refuses the whole
  call with one error per broken field, named ``devices.<index>.<field>``.
- One insert for the devices, one audit row for the call, one ``device.created``
  event per device written with one bulk insert (``emit_many``).
- Keys are random, shown once in the answer, stored only as hashes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction

from sofno.core.access import Actor
from sofno.core.models import AuditEntry, hash_secret
from sofno.directory.models import Customer
from sofno.events.emit import NewEvent, emit_many
from sofno.monitoring.actions import defaults_for, device_data, new_device_key, pos_choices
from sofno.monitoring.models import CustomerMonitoring, Device

MAX_DEVICES = 1000
AUDIT_ACTION = "device.bulk_created"


@dataclass
class ItemError:
    """One broken field of one item of the call."""

    index: int
    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {
            "field": f"devices.{self.index}.{self.field}",
            "rule": self.rule,
            "message": self.message,
        }


class BulkRefused(Exception):
    """The call was refused as a whole; ``errors`` names every broken item field."""

    def __init__(self, errors: list[ItemError]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


def bulk_create_devices(
    *, acting_user: Actor, items: Sequence[dict[str, Any]]
) -> list[tuple[Device, str]]:
    """Create a device per item (``customer`` is a customer's public id, the other
    keys are ``DeviceIn``'s fields); returns each device with its key, in order.

    Raises :class:`BulkRefused` with every item's errors, having written nothing.
    """
    acting_user.require_write()
    organization = acting_user.organization
    customers = _customers(organization.pk, {item["customer"] for item in items})
    known_pos = {slug for slug, _ in pos_choices(organization)}
    devices, keys, errors = [], [], []
    for index, item in enumerate(items):
        device, key, found = _build(index, item, organization, customers, known_pos)
        devices.append(device)
        keys.append(key)
        errors.extend(found)
    if errors:
        raise BulkRefused(errors)
    _apply_timing(devices)
    with transaction.atomic():
        Device.objects.bulk_create(devices, batch_size=500)
        AuditEntry.objects.create(
            organization=organization,
            actor_user=acting_user.user,
            actor_api_key=acting_user.api_key,
            action=AUDIT_ACTION,
            object_type=Device._meta.label_lower,
            object_id="",  # many objects: their ids are in the detail
            detail={"count": len(devices), "devices": [str(d.public_id) for d in devices]},
        )
        emit_many(
            organization,
            [NewEvent("device.created", f"device:{d.public_id}", device_data(d)) for d in devices],
        )
    return list(zip(devices, keys, strict=True))


def _customers(organization_id: int, public_ids: set[UUID]) -> dict[UUID, Customer]:
    """The organization's customers among ``public_ids`` (others are simply missing)."""
    found = Customer.objects.filter(organization_id=organization_id, public_id__in=public_ids)
    return {customer.public_id: customer for customer in found}


def _build(index, item, organization, customers, known_pos):
    """The unsaved device for one item, its key, and what is wrong with it."""
    fields = {k: v for k, v in item.items() if k != "customer"}
    customer = customers.get(item["customer"])
    errors = []
    if customer is None:
        errors.append(ItemError(index, "customer", "unknown", "unknown customer"))
    plain = new_device_key()
    device = Device(
        organization=organization,
        customer=customer,
        key_prefix=plain[:10],
        key_hash=hash_secret(plain),
        **fields,
    )
    if device.pos_software and device.pos_software not in known_pos:
        message = f"unknown POS software {device.pos_software!r}"
        errors.append(ItemError(index, "pos_software", "unknown", message))
    try:
        # The organization is the caller's and the customer was looked up in it (a
        # query per item otherwise); uniqueness is the database's: keys and ids are random.
        device.full_clean(exclude=["organization", "customer"], validate_unique=False)
    except ValidationError as exc:
        for field, field_errors in exc.error_dict.items():
            for err in field_errors:
                errors.append(
                    ItemError(index, field, err.code or "invalid", " ".join(err.messages))
                )
    return device, plain, errors


def _apply_timing(devices: list[Device]) -> None:
    """Interval and grace inherited organization -> customer -> device, the rule of
    :func:`sofno.monitoring.actions.effective_timing`, read in two queries for the
    whole call instead of two per device."""
    if not devices:
        return
    org = defaults_for(devices[0].organization)
    own = {
        row.customer_id: row
        for row in CustomerMonitoring.objects.filter(
            customer_id__in={d.customer_id for d in devices}
        )
    }
    for device in devices:
        interval, grace = org.checkin_interval, org.grace
        customer = own.get(device.customer_id)
        if customer is not None:
            interval = customer.checkin_interval or interval
            grace = customer.grace if customer.grace is not None else grace
        device.effective_interval = device.checkin_interval or interval
        device.effective_grace = device.grace if device.grace is not None else grace
