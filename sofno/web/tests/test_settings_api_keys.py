"""API key pages: owners and admins only; the key is shown once and works until revoked."""

import pytest
from django.test import Client

from sofno.core.models import ApiKey, Role
from sofno.core.testing import ApiClient, make_user
from sofno.directory.models import Customer, CustomerUser


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_lists_keys_without_their_secret(cast):
    html = login(cast.owner).get("/settings/api-keys/").content.decode()
    live = ApiKey.objects.get(organization=cast.org, name="test key")
    assert "test key" in html and live.prefix in html and cast.key not in html
    assert "Read only" in html and "Read and write" in html and "never" in html
    assert "other key" not in html  # another organization's key


def test_it_creates_a_key_shown_once_usable_then_revoked(cast):
    client = login(cast.owner)
    assert client.get("/settings/api-keys/new/").status_code == 200
    response = client.post("/settings/api-keys/new/", {"name": "ERP sync"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    key = ApiKey.objects.get(name="ERP sync")
    html = response.content.decode()
    plain = html.split('id="api-key-plain"')[0].rsplit('value="', 1)[1].split('"', 1)[0]
    assert plain.startswith(key.prefix) and ApiKey.find(plain) == key
    assert plain not in client.get("/settings/api-keys/").content.decode()  # shown once

    api = ApiClient(plain)
    assert api.get("/customers").status_code == 200
    assert api.post("/customers", {"name": "Bar Centrale"}).status_code == 201
    key.refresh_from_db()
    assert key.last_used_at is not None and not key.read_only

    revoked = client.post(f"/settings/api-keys/{key.public_id}/revoke/")
    assert revoked.status_code == 302
    assert api.get("/customers").status_code == 401
    again = client.post(f"/settings/api-keys/{key.public_id}/revoke/", follow=True)
    assert "revoked already" in again.content.decode()


def test_it_makes_a_read_only_key(cast):
    login(cast.owner).post("/settings/api-keys/new/", {"name": "Reports", "read_only": "on"})
    key = ApiKey.objects.get(name="Reports")
    assert key.read_only and key.created_by == cast.owner


def test_it_names_the_field_of_bad_input(cast):
    client = login(cast.owner)
    empty = client.post("/settings/api-keys/new/", {"name": ""})
    assert empty.status_code == 200 and 'data-field="name"' in empty.content.decode()
    long = client.post("/settings/api-keys/new/", {"name": "x" * 101})
    assert 'data-field="name"' in long.content.decode()
    assert ApiKey.objects.filter(organization=cast.org).count() == 2


def test_it_refuses_the_wrong_method(cast):
    client = login(cast.owner)
    key = ApiKey.objects.get(organization=cast.org, name="test key")
    assert client.post("/settings/api-keys/").status_code == 405
    assert client.get(f"/settings/api-keys/{key.public_id}/revoke/").status_code == 405
    assert client.delete("/settings/api-keys/new/").status_code == 405
    key.refresh_from_db()
    assert key.revoked_at is None


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_it_keeps_keys_from_staff_who_are_not_admins(cast, role):
    client = login(make_user("sam", cast.org, role))
    key = ApiKey.objects.get(organization=cast.org, name="test key")
    assert client.get("/settings/api-keys/").status_code == 403
    assert client.get("/settings/api-keys/new/").status_code == 403
    assert client.post("/settings/api-keys/new/", {"name": "mine"}).status_code == 403
    assert client.post(f"/settings/api-keys/{key.public_id}/revoke/").status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None and not ApiKey.objects.filter(name="mine").exists()


def test_it_lets_an_admin_manage_keys(cast):
    client = login(make_user("ada", cast.org, Role.ADMIN))
    assert client.get("/settings/api-keys/").status_code == 200
    assert client.post("/settings/api-keys/new/", {"name": "by admin"}).status_code == 200


def test_it_hides_another_organizations_keys(cast):
    key = ApiKey.objects.get(organization=cast.org, name="test key")
    client = login(cast.outsider)
    assert client.post(f"/settings/api-keys/{key.public_id}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None and ApiClient(cast.key).get("/customers").status_code == 200


def test_it_denies_customer_users(cast):
    customer = Customer.objects.create(organization=cast.org, name="Pizzeria Roma")
    user = make_user("cora", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=user, customer=customer)
    client = login(user)
    key = ApiKey.objects.get(organization=cast.org, name="test key")
    assert client.get("/settings/api-keys/").status_code == 403
    assert client.post("/settings/api-keys/new/", {"name": "x"}).status_code == 403
    assert client.post(f"/settings/api-keys/{key.public_id}/revoke/").status_code == 403
