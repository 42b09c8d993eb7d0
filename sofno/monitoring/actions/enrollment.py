"""Agents enrolling themselves with their customer's token."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from sofno.core.access import Actor
from sofno.core.models import hash_secret
from sofno.directory.models import Customer
from sofno.monitoring.actions.devices import create_device
from sofno.monitoring.models import ENROLL_TOKEN_PREFIX, CustomerMonitoring, Device


@transaction.atomic
def rotate_enrollment_token(*, acting_user: Actor, customer: Customer) -> str:
    """A new enrollment token for the customer's agents (shown once)."""
    acting_user.require_write()
    plain = ENROLL_TOKEN_PREFIX + secrets.token_urlsafe(24)
    found, _ = CustomerMonitoring.objects.get_or_create(customer=customer)
    found.enrollment_token_hash = hash_secret(plain)
    found.enrollment_token_prefix = plain[:10]
    found.save(update_fields=["enrollment_token_hash", "enrollment_token_prefix"])
    acting_user.audit("monitoring.enrollment_token_rotated", customer)
    return plain


class EnrollmentRefused(Exception):
    """The token is unknown (``status`` 401) or its customer is inactive (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@transaction.atomic
def enroll(*, token: str, name: str, os: str, facts: dict[str, Any]) -> tuple[Device, str]:
    """An agent registers itself with its customer's enrollment token."""
    if not token.startswith(ENROLL_TOKEN_PREFIX):
        raise EnrollmentRefused(401, "Unknown enrollment token.")
    found = (
        CustomerMonitoring.objects.select_related("customer__organization")
        .filter(enrollment_token_hash=hash_secret(token))
        .first()
    )
    if found is None:
        raise EnrollmentRefused(401, "Unknown enrollment token.")
    customer = found.customer
    if not customer.active:
        raise EnrollmentRefused(403, customer.refusal_message)
    actor = Actor(organization=customer.organization, role="admin")
    device, plain = create_device(
        acting_user=actor,
        customer=customer,
        fields={"name": name[:200] or "device", "os": os, "description": ""},
    )
    if facts:
        device.facts = facts
        device.save(update_fields=["facts"])
    return device, plain
