"""A customer's public status page: turn it on (a new private URL), off, or hide names."""

from __future__ import annotations

import secrets

from django.db import transaction

from sofno.core.access import Actor
from sofno.core.models import hash_secret
from sofno.directory.models import Customer, StatusPage

TOKEN_BYTES = 32


def find_status_page(token: str) -> StatusPage | None:
    """The enabled status page a token opens, or ``None`` (unknown, old or turned off)."""
    if not token or len(token) > 100:
        return None
    return (
        StatusPage.objects.filter(token_hash=hash_secret(token), enabled=True)
        .select_related("customer", "organization")
        .first()
    )


@transaction.atomic
def publish_status_page(*, acting_user: Actor, customer: Customer, hide_names: bool) -> str:
    """Turn the page on with a new token and return it (shown once); an older URL dies."""
    acting_user.require_write()
    acting_user.require_staff()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    StatusPage.objects.update_or_create(
        customer=customer,
        defaults={
            "organization": customer.organization,
            "enabled": True,
            "token_hash": hash_secret(token),
            "hide_names": hide_names,
        },
    )
    acting_user.audit("status_page.published", customer, hide_names=hide_names)
    return token


@transaction.atomic
def withdraw_status_page(*, acting_user: Actor, customer: Customer) -> None:
    """Turn the page off: its URL stops working at once."""
    acting_user.require_write()
    acting_user.require_staff()
    StatusPage.objects.filter(customer=customer).update(enabled=False)
    acting_user.audit("status_page.withdrawn", customer)
