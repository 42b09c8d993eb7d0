import pytest

from sofno.core.models import AuditEntry, Role
from sofno.core.testing import field_errors, make_user
from sofno.directory.models import Contact, Customer, CustomerUser

HOURS = {"ranges": [{"day": 0, "start": "11:00", "end": "15:00"}]}


def _create(client, **body):
    return client.post("/customers", {"name": "Café Central", **body})


def test_it_creates_reads_changes_and_deletes_a_customer(cast, api_client):
    client = api_client(cast.key)
    agent_id = str(cast.agent.memberships.get().public_id)
    created = _create(
        client,
        country="es",
        timezone="Europe/Madrid",
        business_hours=HOURS,
        assigned_agents=[agent_id],
        email="info@central.example",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["country"], body["assigned_agents"], body["business_hours"]) == (
        "ES",
        [agent_id],
        HOURS,
    )
    url = f"/customers/{body['id']}"
    assert client.get(url).json()["name"] == "Café Central"
    changed = client.patch(url, {"active": False, "refusal_message": "Unpaid."})
    assert changed.status_code == 200
    assert (changed.json()["active"], changed.json()["name"]) == (False, "Café Central")
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    actions = list(AuditEntry.objects.filter(object_id=body["id"]).values_list("action", flat=True))
    assert sorted(actions) == ["customer.created", "customer.deleted", "customer.updated"]


def test_it_filters_and_paginates(cast, api_client):
    client = api_client(cast.key)
    for name, city, active in [
        ("Alpha", "Roma", True),
        ("Beta", "Roma", False),
        ("Gamma", "Bari", True),
    ]:
        assert _create(client, name=name, city=city, active=active).status_code == 201
    names = lambda query: [c["name"] for c in client.get(f"/customers?{query}").json()["items"]]  # noqa: E731
    assert names("city=roma") == ["Alpha", "Beta"]
    assert names("city=roma&active=true") == ["Alpha"]
    assert names("q=amm") == ["Gamma"]
    page = client.get("/customers?limit=2&offset=2").json()
    assert (page["count"], [c["name"] for c in page["items"]]) == (3, ["Gamma"])


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"email": "not-an-email"}, "email", "email"),
        ({"email": "a@b@c.example"}, "email", "email"),
        ({"country": "XX"}, "country", "country"),
        ({"country": "ITA"}, "country", "country"),
        ({"timezone": "Europe/Atlantis"}, "timezone", "timezone"),
        ({"name": ""}, "name", "string_too_short"),
        ({"name": "x" * 201}, "name", "string_too_long"),
        (
            {"business_hours": {"ranges": [{"day": 1, "start": "18:00", "end": "09:00"}]}},
            "business_hours.ranges.0",
            "inverted_range",
        ),
        (
            {
                "business_hours": {
                    "ranges": [
                        {"day": 1, "start": "09:00", "end": "13:00"},
                        {"day": 1, "start": "12:00", "end": "18:00"},
                    ]
                }
            },
            "business_hours",
            "overlapping_ranges",
        ),
        (
            {"business_hours": {"ranges": [{"day": 9, "start": "09:00", "end": "10:00"}]}},
            "business_hours.ranges.0.day",
            "less_than_equal",
        ),
        (
            {"assigned_agents": ["00000000-0000-0000-0000-000000000000"]},
            "assigned_agents",
            "unknown",
        ),
        ({"assigned_agents": ["nope"]}, "assigned_agents.0", "uuid_parsing"),
        ({"active": "sometimes"}, "active", "bool_parsing"),
    ],
)
def test_it_rejects_invalid_fields_on_create_and_change(
    cast, api_client, acme_site, body, field, rule
):
    client = api_client(cast.key)
    created = _create(client, **body)
    assert created.status_code == 422, created.content
    assert field_errors(created).get(field) == rule
    before = Customer.objects.get(pk=acme_site.customer.pk).updated_at
    changed = client.patch(f"/customers/{acme_site.customer.public_id}", body)
    assert changed.status_code == 422
    assert field_errors(changed).get(field) == rule
    assert Customer.objects.get(pk=acme_site.customer.pk).updated_at == before
    assert Customer.objects.filter(organization=cast.org).count() == 1


def test_it_refuses_a_customer_user_as_assigned_agent(cast, api_client, acme_site):
    shopper = make_user("shopper", cast.org, Role.CUSTOMER)
    member_id = str(shopper.memberships.get().public_id)
    response = _create(api_client(cast.key), assigned_agents=[member_id])
    assert field_errors(response) == {"assigned_agents": "not_staff"}


def test_it_refuses_null_for_a_field_in_a_change(cast, api_client, acme_site):
    response = api_client(cast.key).patch(
        f"/customers/{acme_site.customer.public_id}", {"name": None, "business_hours": None}
    )
    assert field_errors(response) == {"name": "null", "business_hours": "null"}


def test_it_refuses_every_write_to_read_only_callers(cast, api_client, acme_site):
    url = f"/customers/{acme_site.customer.public_id}"
    for client in (api_client(cast.readonly_key), api_client.as_user(cast.viewer)):
        assert client.get(url).status_code == 200
        assert _create(client).status_code == 403
        assert client.patch(url, {"name": "Renamed"}).status_code == 403
        assert client.delete(url).status_code == 403
    assert Customer.objects.get(pk=acme_site.customer.pk).name == "Trattoria Da Mario"


def test_it_lets_agents_edit_but_not_delete(cast, api_client, acme_site):
    agent = api_client.as_user(cast.agent)
    url = f"/customers/{acme_site.customer.public_id}"
    assert agent.patch(url, {"city": "Napoli"}).status_code == 200
    denied = agent.delete(url)
    assert (denied.status_code, denied.json()["code"]) == (403, "admin_only")
    assert Customer.objects.filter(pk=acme_site.customer.pk).exists()


def test_it_shows_a_customer_user_only_their_customer(cast, api_client, acme_site):
    other = Customer.objects.create(organization=cast.org, name="Other Shop")
    shopper = make_user("shopper", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=shopper, customer=acme_site.customer)
    client = api_client.as_user(shopper)
    listed = client.get("/customers").json()["items"]
    assert [c["id"] for c in listed] == [str(acme_site.customer.public_id)]
    assert client.get(f"/customers/{other.public_id}").status_code == 404
    Contact.objects.create(
        organization=cast.org,
        customer=other,
        name="Not yours",
        contact_type=acme_site.contact.contact_type,
    )
    contacts = client.get("/contacts").json()["items"]
    assert [c["id"] for c in contacts] == [str(acme_site.contact.public_id)]
    assert client.get("/members").status_code == 403
    assert (
        client.patch(f"/customers/{acme_site.customer.public_id}", {"name": "x"}).status_code == 403
    )


def test_it_answers_405_to_a_wrong_method(cast, api_client, acme_site):
    client = api_client(cast.key)
    assert client.put("/customers", {"name": "x"}).status_code == 405
    assert client.post(f"/customers/{acme_site.customer.public_id}", {}).status_code == 405
