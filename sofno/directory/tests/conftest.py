"""Directory fixtures: a customer with a primary service contact in each organization."""

from dataclasses import dataclass
from typing import Any

import pytest

from sofno.directory.models import Contact, ContactType, Customer


@dataclass
class Site:
    customer: Any
    contact: Any


def make_site(org, name: str, phone: str = "+390612345678") -> Site:
    customer = Customer.objects.create(
        organization=org, name=name, city="Roma", country="IT", timezone="Europe/Rome"
    )
    service = ContactType.objects.get(organization=org, slug="service")
    contact = Contact.objects.create(
        organization=org,
        customer=customer,
        name=f"Manager of {name}",
        phone=phone,
        contact_type=service,
        is_primary=True,
    )
    return Site(customer, contact)


@pytest.fixture
def acme_site(cast) -> Site:
    return make_site(cast.org, "Trattoria Da Mario")


@pytest.fixture
def globex_site(cast) -> Site:
    return make_site(cast.other_org, "Globex Diner", phone="+34912345678")
