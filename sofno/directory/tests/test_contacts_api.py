import pytest

from sofno.core.testing import field_errors
from sofno.directory.models import Contact


def _body(site, **fields):
    return {
        "customer": str(site.customer.public_id),
        "name": "Lucia",
        "contact_type": "billing",
        **fields,
    }


def test_it_creates_reads_changes_and_deletes_a_contact(cast, api_client, acme_site):
    client = api_client(cast.key)
    hours = {"ranges": [{"day": 5, "start": "10:00", "end": "12:00"}]}
    created = client.post(
        "/contacts",
        _body(
            acme_site,
            phone="+39 06 9876 5432",
            email="lucia@example.com",
            is_primary=True,
            reachable_hours=hours,
        ),
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["phone"], body["contact_type"], body["reachable_hours"]) == (
        "+390698765432",
        "billing",
        hours,
    )
    url = f"/contacts/{body['id']}"
    assert client.get(url).json()["customer"] == str(acme_site.customer.public_id)
    changed = client.patch(url, {"contact_type": "manager", "notes": "mornings"})
    assert (changed.status_code, changed.json()["contact_type"]) == (200, "manager")
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_it_filters_contacts(cast, api_client, acme_site):
    client = api_client(cast.key)
    client.post("/contacts", _body(acme_site, name="Bruno"))
    names = lambda query: [c["name"] for c in client.get(f"/contacts?{query}").json()["items"]]  # noqa: E731
    assert names("contact_type=billing") == ["Bruno"]
    assert names("is_primary=true") == ["Manager of Trattoria Da Mario"]
    assert names(f"customer={acme_site.customer.public_id}&q=bru") == ["Bruno"]


def test_it_refuses_a_second_primary_contact_of_the_same_type(cast, api_client, acme_site):
    client = api_client(cast.key)
    second = client.post("/contacts", _body(acme_site, contact_type="service", is_primary=True))
    assert second.status_code == 422
    assert field_errors(second) == {"is_primary": "one_primary_per_type"}
    assert Contact.objects.filter(customer=acme_site.customer).count() == 1
    # A primary contact of another type is fine; promoting a second one is not.
    other = client.post("/contacts", _body(acme_site, contact_type="service")).json()
    promoted = client.patch(f"/contacts/{other['id']}", {"is_primary": True})
    assert field_errors(promoted) == {"is_primary": "one_primary_per_type"}
    assert client.post("/contacts", _body(acme_site, is_primary=True)).status_code == 201


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"phone": "06 1234 5678"}, "phone", "phone"),
        ({"phone": "+39 06"}, "phone", "phone"),
        ({"phone": "+44 20 7946 09"}, "phone", "phone"),
        ({"phone": "+999 123456"}, "phone", "phone"),
        ({"email": "lucia at example.com"}, "email", "email"),
        ({"contact_type": "plumber"}, "contact_type", "unknown"),
        ({"customer": "00000000-0000-0000-0000-000000000000"}, "customer", "unknown"),
        (
            {"reachable_hours": {"ranges": [{"day": 0, "start": "12:00", "end": "11:00"}]}},
            "reachable_hours.ranges.0",
            "inverted_range",
        ),
    ],
)
def test_it_rejects_invalid_contact_fields(cast, api_client, acme_site, fields, field, rule):
    client = api_client(cast.key)
    created = client.post("/contacts", _body(acme_site, **fields))
    assert created.status_code == 422, created.content
    assert field_errors(created) == {field: rule}
    assert Contact.objects.count() == 1
    if field != "customer":
        changed = client.patch(f"/contacts/{acme_site.contact.public_id}", fields)
        assert field_errors(changed) == {field: rule}
        acme_site.contact.refresh_from_db()
        assert acme_site.contact.phone == "+390612345678"


def test_it_refuses_every_write_to_read_only_callers(cast, api_client, acme_site):
    url = f"/contacts/{acme_site.contact.public_id}"
    for client in (api_client(cast.readonly_key), api_client.as_user(cast.viewer)):
        assert client.get(url).status_code == 200
        assert client.post("/contacts", _body(acme_site)).status_code == 403
        assert client.patch(url, {"name": "x"}).status_code == 403
        assert client.delete(url).status_code == 403
    assert Contact.objects.get(pk=acme_site.contact.pk).name == "Manager of Trattoria Da Mario"


def test_it_answers_405_to_a_wrong_method(cast, api_client, acme_site):
    client = api_client(cast.key)
    assert client.put("/contacts", {}).status_code == 405
    assert client.put(f"/contacts/{acme_site.contact.public_id}", {}).status_code == 405
