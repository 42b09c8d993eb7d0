"""The recipient kinds the ticket rules use: added technicians, the primary contact."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone

from sofno.directory.models import Contact, ContactType, Customer
from sofno.events.emit import emit
from sofno.notify import reasons
from sofno.notify.routing.recipients import resolve


def _event(cast, customer, **payload):
    customer_data = {"id": str(customer.public_id), "name": customer.name} if customer else {}
    return emit(cast.org, "ticket.assigned", "ticket:x", {"customer": customer_data, **payload})


def _names(resolved):
    return [p.name for p in resolved.people]


def test_it_names_only_the_added_technicians_and_says_who_has_no_account(cast):
    get_user_model().objects.create_user(username="ghost", email="ghost@example.com")
    event = _event(
        cast,
        None,
        technicians=[{"username": "adam"}, {"username": "olivia"}],
        added_technicians=[{"username": "olivia"}, {"username": "ghost"}],
    )
    now = timezone.now()
    added = resolve([{"kind": "added_technicians"}], cast.org, event, at=now)
    assert _names(added) == ["olivia"]
    assert added.notes == [{"code": reasons.NO_ACCOUNT, "params": {"person": "ghost"}}]
    assert reasons.text(added.notes[0]) == (
        "technician ghost has no user account in the organization"
    )
    everyone = resolve([{"kind": "technicians"}], cast.org, event, at=now)
    assert sorted(_names(everyone)) == ["adam", "olivia"]


def test_it_names_the_customers_primary_contact_of_the_chosen_type(cast):
    shop = Customer.objects.create(organization=cast.org, name="Shop")
    types = {t.slug: t for t in ContactType.objects.filter(organization=cast.org)}
    for name, slug, primary in (("Sam", "service", False), ("Carla", "service", True)):
        Contact.objects.create(
            organization=cast.org,
            customer=shop,
            name=name,
            email=f"{name.lower()}@shop.test",
            contact_type=types[slug],
            is_primary=primary,
        )
    event, now = _event(cast, shop), timezone.now()
    default = resolve([{"kind": "primary_contact"}], cast.org, event, at=now)
    assert _names(default) == ["Carla"]  # the ticket settings' type: service
    billing = resolve([{"kind": "primary_contact", "value": "billing"}], cast.org, event, at=now)
    assert billing.people == [] and [reasons.code_of(n) for n in billing.notes] == [
        reasons.NO_PRIMARY_CONTACT
    ]
    # The contact type by the name people gave it, not its slug.
    assert reasons.text(billing.notes[0]) == "Shop has no primary Billing contact"
    nobody = resolve([{"kind": "primary_contact"}], cast.org, _event(cast, None), at=now)
    assert nobody.notes == [{"code": reasons.PRIMARY_NO_CUSTOMER}]
    assert reasons.text(nobody.notes[0]) == "primary contact: the event names no customer"
