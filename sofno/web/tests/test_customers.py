"""Customer pages: list, detail, create, edit and contacts, for every kind of user."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from sofno.core.models import AuditEntry, Membership, Role
from sofno.core.testing import make_user
from sofno.directory.models import Contact, ContactType, Customer, CustomerUser

HOURS = {
    "business_hours_0": "9-13, 14:00-18:00",
    "business_hours_4": "09:00-17:30",
}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _customer(org, name: str = "Trattoria", **fields) -> Customer:
    return Customer.objects.create(organization=org, name=name, timezone="Europe/Rome", **fields)


def _form(**fields) -> dict[str, str]:
    data = {"name": "Bar Roma", "timezone": "Europe/Rome", "active": "on", "alerts_enabled": "on"}
    data.update(fields)
    return data


@pytest.fixture
def shop(cast) -> Customer:
    return _customer(cast.org)


def test_it_lists_only_the_organizations_customers(cast, shop):
    _customer(cast.other_org, "Globex Diner")
    page = _client(cast.agent).get(reverse("web:customer-list"))
    assert page.status_code == 200
    assert "Trattoria" in page.text and "Globex Diner" not in page.text
    assert 'id="customer-create"' in page.text


def test_it_searches_customers_by_name(cast, shop):
    _customer(cast.org, "Pizzeria Napoli")
    page = _client(cast.agent).get(reverse("web:customer-list"), {"q": "pizz"})
    assert "Pizzeria Napoli" in page.text and "Trattoria" not in page.text


def test_it_shows_a_customer_with_contacts_and_hours(cast, shop):
    shop.business_hours = {"ranges": [{"day": 0, "start": "09:00", "end": "13:00"}]}
    shop.save()
    service = ContactType.objects.get(organization=cast.org, slug="service")
    Contact.objects.create(
        organization=cast.org, customer=shop, name="Mario", contact_type=service, is_primary=True
    )
    page = _client(cast.viewer).get(reverse("web:customer-detail", args=[shop.public_id]))
    assert page.status_code == 200
    assert "Mario" in page.text and "09:00-13:00" in page.text
    assert 'id="customer-edit"' not in page.text and 'id="contact-add"' not in page.text


def test_it_creates_a_customer_with_business_hours_and_agents(cast):
    agent_member = Membership.objects.get(user=cast.agent)
    data = _form(assigned_agents=[str(agent_member.public_id)], **HOURS)
    answer = _client(cast.owner).post(reverse("web:customer-create"), data)
    customer = Customer.objects.get(organization=cast.org, name="Bar Roma")
    assert answer.status_code == 302
    assert answer["Location"] == reverse("web:customer-detail", args=[customer.public_id])
    assert customer.business_hours == {
        "ranges": [
            {"day": 0, "start": "09:00", "end": "13:00"},
            {"day": 0, "start": "14:00", "end": "18:00"},
            {"day": 4, "start": "09:00", "end": "17:30"},
        ]
    }
    assert list(customer.assigned_agents.all()) == [cast.agent]
    assert AuditEntry.objects.filter(action="customer.created", actor_user=cast.owner).exists()


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"name": ""}, "name", "required"),
        ({"timezone": "Mars/Olympus"}, "timezone", "timezone"),
        ({"email": "not-an-email"}, "email", "email"),
        ({"country": "I1"}, "country", "ISO 3166"),
        ({"business_hours_1": "18:00-09:00"}, "business_hours", "ends before it starts"),
        ({"business_hours_2": "09:00-13:00, 12:00-15:00"}, "business_hours", "overlap"),
        ({"business_hours_3": "nine to five"}, "business_hours", "not a time range"),
        ({"business_hours_3": "25:00-26:00"}, "business_hours", "not a time range"),
    ],
)
def test_it_rejects_a_bad_customer_naming_the_field(cast, fields, field, words):
    answer = _client(cast.owner).post(reverse("web:customer-create"), _form(**fields))
    assert answer.status_code == 200
    errors = answer.context["form"].errors
    assert list(errors) == [field]
    assert words in " ".join(errors[field])
    assert f'data-field="{field}"' in answer.text
    assert not Customer.objects.exists()


def test_it_edits_a_customer_and_keeps_it_unchanged_when_invalid(cast, shop):
    url = reverse("web:customer-edit", args=[shop.public_id])
    client = _client(cast.agent)
    form = client.get(url)
    assert form.status_code == 200 and 'value="Trattoria"' in form.text
    bad = client.post(url, _form(name="Renamed", business_hours_0="10-9"))
    assert bad.status_code == 200
    shop.refresh_from_db()
    assert shop.name == "Trattoria"
    good = client.post(url, _form(name="Renamed", active="", **HOURS))
    assert good.status_code == 302
    shop.refresh_from_db()
    assert (shop.name, shop.active) == ("Renamed", False)
    assert len(shop.business_hours["ranges"]) == 3


def test_it_forbids_changes_to_read_only_roles(cast, shop):
    link_user = make_user("carla", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=link_user, customer=shop)
    for user in (cast.viewer, link_user):
        client = _client(user)
        assert client.post(reverse("web:customer-create"), _form()).status_code == 403
        assert client.get(reverse("web:customer-create")).status_code == 403
        edit = reverse("web:customer-edit", args=[shop.public_id])
        assert client.post(edit, _form(name="Hacked")).status_code == 403
        add = reverse("web:contact-add", args=[shop.public_id])
        assert client.post(add, {"name": "X"}).status_code == 403
        listing = client.get(reverse("web:customer-list"))
        assert 'id="customer-create"' not in listing.text
    shop.refresh_from_db()
    assert shop.name == "Trattoria"
    assert Customer.objects.count() == 1 and not Contact.objects.exists()


def test_it_shows_a_customer_user_only_their_customer(cast, shop):
    other = _customer(cast.org, "Other Shop")
    user = make_user("carla", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=user, customer=shop)
    client = _client(user)
    listing = client.get(reverse("web:customer-list"))
    assert "Trattoria" in listing.text and "Other Shop" not in listing.text
    assert client.get(reverse("web:customer-detail", args=[shop.public_id])).status_code == 200
    assert client.get(reverse("web:customer-detail", args=[other.public_id])).status_code == 404
    # Their home is the portal, made for one customer.
    assert client.get(reverse("web:dashboard"))["Location"] == reverse("web:portal")


def test_it_answers_404_for_another_organizations_customer(cast, shop):
    client = _client(cast.outsider)
    for name in ("web:customer-detail", "web:customer-edit", "web:contact-add"):
        assert client.get(reverse(name, args=[shop.public_id])).status_code == 404
    edit = client.post(reverse("web:customer-edit", args=[shop.public_id]), _form(name="Mine"))
    assert edit.status_code == 404
    shop.refresh_from_db()
    assert shop.name == "Trattoria"


def test_it_refuses_wrong_methods(cast, shop):
    client = _client(cast.owner)
    assert client.post(reverse("web:customer-list")).status_code == 405
    assert client.post(reverse("web:customer-detail", args=[shop.public_id])).status_code == 405
    assert client.put(reverse("web:customer-edit", args=[shop.public_id])).status_code == 405
    assert client.delete(reverse("web:customer-create")).status_code == 405


def test_it_sends_anonymous_visitors_to_the_login_page(shop):
    answer = Client().get(reverse("web:customer-detail", args=[shop.public_id]))
    assert answer.status_code == 302 and answer["Location"].startswith("/login/")


def _contact_form(cast, **fields) -> dict[str, str]:
    service = ContactType.objects.get(organization=cast.org, slug="service")
    data = {"name": "Mario Rossi", "contact_type": str(service.pk), "is_primary": "on"}
    data.update(fields)
    return data


def test_it_adds_a_contact_with_a_normalized_phone(cast, shop):
    url = reverse("web:contact-add", args=[shop.public_id])
    answer = _client(cast.agent).post(
        url, _contact_form(cast, phone="+39 06 1234 5678", reachable_hours_5="10:00-12:00")
    )
    assert answer.status_code == 302
    contact = Contact.objects.get(customer=shop)
    assert (contact.phone, contact.is_primary) == ("+390612345678", True)
    assert contact.reachable_hours == {"ranges": [{"day": 5, "start": "10:00", "end": "12:00"}]}
    assert AuditEntry.objects.filter(action="contact.created").exists()


@pytest.mark.parametrize("phone", ["06 1234 5678", "+39 12", "+1 555 0000 0000 000", "call me"])
def test_it_rejects_a_bad_phone_on_the_phone_field(cast, shop, phone):
    url = reverse("web:contact-add", args=[shop.public_id])
    answer = _client(cast.agent).post(url, _contact_form(cast, phone=phone))
    assert answer.status_code == 200
    assert list(answer.context["form"].errors) == ["phone"]
    assert not Contact.objects.exists()


def test_it_refuses_a_second_primary_contact_of_the_same_type(cast, shop):
    client = _client(cast.agent)
    url = reverse("web:contact-add", args=[shop.public_id])
    assert client.post(url, _contact_form(cast)).status_code == 302
    second = client.post(url, _contact_form(cast, name="Luigi"))
    assert second.status_code == 200
    assert list(second.context["form"].errors) == ["is_primary"]
    assert list(Contact.objects.values_list("name", flat=True)) == ["Mario Rossi"]
    billing = ContactType.objects.get(organization=cast.org, slug="billing")
    other_type = client.post(url, _contact_form(cast, name="Luigi", contact_type=billing.pk))
    assert other_type.status_code == 302


def test_it_edits_a_contact_and_rejects_another_organizations_type(cast, shop):
    client = _client(cast.agent)
    client.post(reverse("web:contact-add", args=[shop.public_id]), _contact_form(cast))
    contact = Contact.objects.get()
    url = reverse("web:contact-edit", args=[shop.public_id, contact.public_id])
    foreign = ContactType.objects.get(organization=cast.other_org, slug="billing")
    bad = client.post(url, _contact_form(cast, name="Changed", contact_type=foreign.pk))
    assert bad.status_code == 200 and list(bad.context["form"].errors) == ["contact_type"]
    contact.refresh_from_db()
    assert contact.name == "Mario Rossi"
    good = client.post(url, _contact_form(cast, name="Mario Bianchi", is_primary=""))
    assert good.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.is_primary) == ("Mario Bianchi", False)
    assert _client(cast.outsider).get(url).status_code == 404


def test_it_offers_the_organizations_timezone_for_a_new_customer(cast):
    page = _client(cast.owner).get(reverse("web:customer-create"))
    assert page.status_code == 200
    assert page.context["form"]["timezone"].value() == "Europe/Rome"
