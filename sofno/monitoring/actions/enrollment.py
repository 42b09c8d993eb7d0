"""Agents enrolling themselves with their customer's token."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from sofno.core.access import Actor
from sofno.core.models import hash_secret
from sofno.directory.models import Customer
from sofno.monitoring.actions.devices import create_device
from sofno.monitoring.models import (
    ENROLL_TOKEN_PREFIX,
    CustomerMonitoring,
    Device,
    EnrollmentLink,
)


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


@transaction.atomic
def issue_enrollment_link(*, acting_user: Actor, customer: Customer) -> str:
    """The acting staff member's own enrollment token for ``customer`` (shown once; it
    replaces their previous one). Computers enrolled with it record them as installer."""
    acting_user.require_write()
    acting_user.require_staff()
    acting_user.require_person()
    plain = ENROLL_TOKEN_PREFIX + secrets.token_urlsafe(24)
    EnrollmentLink.objects.update_or_create(
        customer=customer,
        installer=acting_user.user,
        defaults={
            "organization": customer.organization,
            "token_hash": hash_secret(plain),
            "token_prefix": plain[:10],
        },
    )
    acting_user.audit("monitoring.enrollment_link_issued", customer)
    return plain


def _enrollment_target(token: str):
    """(customer, installer) a token enrolls into: the customer's shared token (no
    installer) or a staff member's own link."""
    hashed = hash_secret(token)
    shared = (
        CustomerMonitoring.objects.select_related("customer__organization")
        .filter(enrollment_token_hash=hashed)
        .first()
    )
    if shared is not None:
        return shared.customer, None
    link = (
        EnrollmentLink.objects.select_related("customer__organization", "installer")
        .filter(token_hash=hashed)
        .first()
    )
    if link is not None:
        return link.customer, link.installer
    return None, None


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
    customer, installer = _enrollment_target(token)
    if customer is None:
        raise EnrollmentRefused(401, "Unknown enrollment token.")
    if not customer.active:
        raise EnrollmentRefused(403, customer.refusal_message)
    actor = Actor(organization=customer.organization, role="admin")
    device, plain = create_device(
        acting_user=actor,
        customer=customer,
        fields={
            "name": name[:200] or "device",
            "os": os,
            "description": "",
            "installed_by": installer,
        },
    )
    if facts:
        device.facts = facts
        device.save(update_fields=["facts"])
    return device, plain
