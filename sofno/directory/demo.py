"""Sample customers and contacts for ``sofno demo``."""

from __future__ import annotations

from sofno.directory.models import Contact, ContactType, Customer

WEEKDAYS_9_TO_18 = {"ranges": [{"day": d, "start": "09:00", "end": "18:00"} for d in range(5)]}
RESTAURANT_HOURS = {"ranges": [{"day": d, "start": "11:00", "end": "23:00"} for d in range(7)]}

SAMPLE_CUSTOMERS = [
    ("Trattoria Da Mario", "Roma", "IT", "Europe/Rome", RESTAURANT_HOURS, "+390612345678"),
    ("Café Central", "Madrid", "ES", "Europe/Madrid", RESTAURANT_HOURS, "+34912345678"),
    ("Hardware Store Smith", "Austin", "US", "America/Chicago", WEEKDAYS_9_TO_18, "+15125550123"),
]


def seed(organization, owner) -> None:
    """Three customers, each with a primary service contact; the owner is assigned."""
    service = ContactType.objects.get(organization=organization, slug="service")
    for name, city, country, tz, hours, phone in SAMPLE_CUSTOMERS:
        customer = Customer.objects.create(
            organization=organization,
            name=name,
            city=city,
            country=country,
            timezone=tz,
            business_hours=hours,
            email=f"info@{city.lower()}.example",
        )
        customer.assigned_agents.add(owner)
        Contact.objects.create(
            organization=organization,
            customer=customer,
            name=f"Manager of {name}",
            email=f"manager@{city.lower()}.example",
            phone=phone,
            contact_type=service,
            is_primary=True,
        )
