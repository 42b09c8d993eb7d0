from sofno.core.testing import field_errors
from sofno.directory.models import ContactType


def test_it_manages_contact_types(cast, api_client):
    client = api_client(cast.key)
    listed = client.get("/contact-types").json()
    assert sorted(t["slug"] for t in listed["items"]) == ["billing", "manager", "service"]
    created = client.post("/contact-types", {"slug": "night-shift", "name": "Night shift"})
    assert created.status_code == 201
    url = f"/contact-types/{created.json()['id']}"
    assert client.patch(url, {"name": "Nights"}).json()["name"] == "Nights"
    assert client.get(url).json()["slug"] == "night-shift"
    assert client.delete(url).status_code == 204
    assert not ContactType.objects.filter(slug="night-shift").exists()


def test_it_refuses_a_duplicate_or_malformed_slug(cast, api_client):
    client = api_client(cast.key)
    duplicate = client.post("/contact-types", {"slug": "billing", "name": "Billing 2"})
    assert field_errors(duplicate) == {"slug": "unique"}
    malformed = client.post("/contact-types", {"slug": "Bad Slug!", "name": "x"})
    assert field_errors(malformed) == {"slug": "string_pattern_mismatch"}
    service = ContactType.objects.get(organization=cast.org, slug="service")
    renamed = client.patch(f"/contact-types/{service.public_id}", {"slug": "billing"})
    assert field_errors(renamed) == {"slug": "unique"}
    # The same slug in another organization is no conflict.
    assert (
        api_client(cast.other_key)
        .post("/contact-types", {"slug": "night", "name": "Night"})
        .status_code
        == 201
    )
    assert client.post("/contact-types", {"slug": "night", "name": "Night"}).status_code == 201


def test_it_refuses_to_delete_a_type_in_use(cast, api_client, acme_site):
    service = acme_site.contact.contact_type
    response = api_client(cast.key).delete(f"/contact-types/{service.public_id}")
    assert field_errors(response) == {"contact_type": "in_use"}
    assert ContactType.objects.filter(pk=service.pk).exists()


def test_it_lets_only_admins_change_types(cast, api_client):
    billing = ContactType.objects.get(organization=cast.org, slug="billing")
    url = f"/contact-types/{billing.public_id}"
    for client in (
        api_client.as_user(cast.agent),
        api_client.as_user(cast.viewer),
        api_client(cast.readonly_key),
    ):
        assert client.get(url).status_code == 200
        assert client.post("/contact-types", {"slug": "x", "name": "X"}).status_code == 403
        assert client.patch(url, {"name": "Money"}).status_code == 403
        assert client.delete(url).status_code == 403
    assert ContactType.objects.get(pk=billing.pk).name == "Billing"


def test_it_hides_another_organizations_types(cast, api_client):
    theirs = ContactType.objects.get(organization=cast.other_org, slug="billing")
    client = api_client(cast.key)
    assert client.get(f"/contact-types/{theirs.public_id}").status_code == 404
    assert client.patch(f"/contact-types/{theirs.public_id}", {"name": "x"}).status_code == 404
    assert client.delete(f"/contact-types/{theirs.public_id}").status_code == 404
    assert ContactType.objects.get(pk=theirs.pk).name == "Billing"


def test_it_answers_405_to_a_wrong_method(cast, api_client):
    assert api_client(cast.key).put("/contact-types", {}).status_code == 405
