"""One organization's user or API key cannot list, read, change or delete another
organization's customers or contacts: 404, and nothing changes."""

import pytest
from django.forms.models import model_to_dict

from sofno.core.models import AuditEntry
from sofno.directory.models import Contact, Customer


def _outsider(kind, cast, api_client):
    if kind == "session":
        return api_client.as_user(cast.outsider)
    return api_client(cast.other_key)


def _snapshot() -> dict:
    customers = {c.pk: model_to_dict(c) for c in Customer.objects.all()}
    contacts = {c.pk: model_to_dict(c) for c in Contact.objects.all()}
    return {"customers": customers, "contacts": contacts}


@pytest.fixture(params=["session", "api_key"])
def outsider(request, cast, api_client):
    return _outsider(request.param, cast, api_client)


def test_it_lists_only_the_callers_own_records(outsider, acme_site, globex_site):
    customers = outsider.get("/customers").json()
    assert [c["name"] for c in customers["items"]] == ["Globex Diner"]
    contacts = outsider.get("/contacts").json()
    assert [c["id"] for c in contacts["items"]] == [str(globex_site.contact.public_id)]
    filtered = outsider.get(f"/contacts?customer={acme_site.customer.public_id}").json()
    assert filtered == {"items": [], "count": 0}


def test_it_answers_404_to_reads_of_another_organizations_records(outsider, acme_site):
    assert outsider.get(f"/customers/{acme_site.customer.public_id}").status_code == 404
    assert outsider.get(f"/contacts/{acme_site.contact.public_id}").status_code == 404


def test_it_answers_404_to_changes_and_changes_nothing(outsider, acme_site, globex_site):
    before = _snapshot()
    audit_before = AuditEntry.objects.count()
    customer_url = f"/customers/{acme_site.customer.public_id}"
    contact_url = f"/contacts/{acme_site.contact.public_id}"
    assert outsider.patch(customer_url, {"name": "Hijacked", "active": False}).status_code == 404
    assert outsider.patch(contact_url, {"phone": "+34912345679"}).status_code == 404
    assert outsider.delete(contact_url).status_code == 404
    assert outsider.delete(customer_url).status_code == 404
    assert _snapshot() == before
    assert AuditEntry.objects.count() == audit_before


def test_it_refuses_a_contact_under_another_organizations_customer(outsider, acme_site):
    before = _snapshot()
    body = {"customer": str(acme_site.customer.public_id), "name": "Spy", "contact_type": "service"}
    response = outsider.post("/contacts", body)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "customer",
            "rule": "unknown",
            "message": f"unknown customer {acme_site.customer.public_id}",
        }
    ]
    assert _snapshot() == before


def test_it_refuses_another_organizations_member_as_assigned_agent(cast, api_client, acme_site):
    theirs = cast.outsider.memberships.get().public_id
    response = api_client(cast.key).patch(
        f"/customers/{acme_site.customer.public_id}", {"assigned_agents": [str(theirs)]}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "assigned_agents"
    assert acme_site.customer.assigned_agents.count() == 0
