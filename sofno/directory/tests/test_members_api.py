import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from sofno.core.models import AuditEntry, Membership, Role
from sofno.core.testing import field_errors, make_user
from sofno.directory.models import Customer, CustomerUser


def _member_id(user) -> str:
    return str(user.memberships.get().public_id)


def _new(client, **fields):
    return client.post("/members", {"username": "nina", "email": "nina@example.com", **fields})


def test_it_lists_and_filters_members(cast, api_client):
    client = api_client(cast.readonly_key)
    listed = client.get("/members").json()
    assert [m["username"] for m in listed["items"]] == ["adam", "olivia", "vera"]
    assert [m["username"] for m in client.get("/members?role=viewer").json()["items"]] == ["vera"]
    assert [m["username"] for m in client.get("/members?q=OLI").json()["items"]] == ["olivia"]
    assert field_errors(client.get("/members?role=emperor")) == {"role": "enum"}


def test_it_creates_a_member_with_a_role(cast, api_client):
    created = _new(api_client(cast.key), role="viewer", password="a-long-horse-battery")
    assert created.status_code == 201, created.content
    assert created.json()["role"] == "viewer"
    user = get_user_model().objects.get(username="nina")
    assert user.check_password("a-long-horse-battery")
    assert AuditEntry.objects.filter(
        action="member.created", object_id=created.json()["id"]
    ).exists()


def test_it_creates_a_member_without_password_who_cannot_sign_in(cast, api_client):
    assert _new(api_client(cast.key)).status_code == 201
    assert not get_user_model().objects.get(username="nina").has_usable_password()


def test_it_links_a_customer_user_to_exactly_one_customer(cast, api_client, acme_site):
    client = api_client(cast.key)
    customer_id = str(acme_site.customer.public_id)
    missing = _new(client, role="customer")
    assert field_errors(missing) == {"customer": "required"}
    several = _new(client, role="customer", customer=[customer_id, customer_id])
    assert field_errors(several) == {"customer": "uuid_type"}
    staff_with_customer = _new(client, role="agent", customer=customer_id)
    assert field_errors(staff_with_customer) == {"customer": "not_allowed"}
    assert not get_user_model().objects.filter(username="nina").exists()
    created = _new(client, role="customer", customer=customer_id)
    assert (created.status_code, created.json()["customer"]) == (201, customer_id)
    link = CustomerUser.objects.get(user__username="nina")
    second = CustomerUser(organization=cast.org, user=link.user, customer=link.customer)
    with pytest.raises(ValidationError) as caught:
        second.full_clean()
    assert caught.value.error_dict["customer"][0].code == "one_customer"


def test_it_refuses_a_customer_of_another_organization(cast, api_client, globex_site):
    response = _new(
        api_client(cast.key), role="customer", customer=str(globex_site.customer.public_id)
    )
    assert field_errors(response) == {"customer": "unknown"}
    assert not CustomerUser.objects.exists()


def test_it_moves_a_customer_user_and_drops_the_link_when_the_role_changes(
    cast, api_client, acme_site
):
    client = api_client(cast.key)
    other = Customer.objects.create(organization=cast.org, name="Second Shop")
    created = _new(client, role="customer", customer=str(acme_site.customer.public_id)).json()
    url = f"/members/{created['id']}"
    moved = client.patch(url, {"customer": str(other.public_id)})
    assert moved.json()["customer"] == str(other.public_id)
    assert CustomerUser.objects.filter(user__username="nina").count() == 1
    promoted = client.patch(url, {"role": "agent"})
    assert (promoted.json()["role"], promoted.json()["customer"]) == ("agent", None)
    assert not CustomerUser.objects.exists()
    back = client.patch(url, {"role": "customer"})
    assert field_errors(back) == {"customer": "required"}


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"username": "adam"}, "username", "unique"),
        ({"username": "bad name!"}, "username", "invalid"),
        ({"email": "nope"}, "email", "email"),
        ({"role": "emperor"}, "role", "enum"),
        ({"password": "x9#"}, "password", "password_too_short"),
        ({"password": "password"}, "password", "password_too_common"),
    ],
)
def test_it_rejects_invalid_member_fields(cast, api_client, fields, field, rule):
    response = _new(api_client(cast.key), **fields)
    assert response.status_code == 422
    assert field_errors(response)[field] == rule
    assert Membership.objects.filter(organization=cast.org).count() == 3


def test_it_lets_only_an_owner_grant_or_touch_ownership(cast, api_client):
    admin = make_user("ada", cast.org, Role.ADMIN)
    for client in (api_client.as_user(admin), api_client(cast.key)):
        granted = _new(client, role="owner")
        assert (granted.status_code, granted.json()["code"]) == (403, "owner_only")
        demoted = client.patch(f"/members/{_member_id(cast.owner)}", {"role": "viewer"})
        assert demoted.status_code == 403
        assert client.delete(f"/members/{_member_id(cast.owner)}").status_code == 403
    owner = api_client.as_user(cast.owner)
    assert owner.patch(f"/members/{_member_id(cast.agent)}", {"role": "owner"}).status_code == 200


def test_it_keeps_the_last_owner(cast, api_client):
    owner = api_client.as_user(cast.owner)
    url = f"/members/{_member_id(cast.owner)}"
    assert field_errors(owner.patch(url, {"role": "admin"})) == {"role": "last_owner"}
    assert field_errors(owner.delete(url)) == {"role": "last_owner"}
    assert cast.owner.memberships.get().role == Role.OWNER


def test_it_removes_a_membership_with_its_links_and_assignments(cast, api_client, acme_site):
    acme_site.customer.assigned_agents.add(cast.agent)
    response = api_client(cast.key).delete(f"/members/{_member_id(cast.agent)}")
    assert response.status_code == 204
    assert not Membership.objects.filter(user=cast.agent).exists()
    assert acme_site.customer.assigned_agents.count() == 0
    assert api_client.as_user(cast.agent).get("/customers").status_code == 401


def test_it_refuses_member_writes_to_non_admins(cast, api_client):
    url = f"/members/{_member_id(cast.viewer)}"
    for client in (
        api_client.as_user(cast.agent),
        api_client.as_user(cast.viewer),
        api_client(cast.readonly_key),
    ):
        assert _new(client).status_code == 403
        assert client.patch(url, {"role": "admin"}).status_code == 403
        assert client.delete(url).status_code == 403
    assert cast.viewer.memberships.get().role == Role.VIEWER


def test_it_hides_members_from_customer_users_and_other_organizations(cast, api_client, acme_site):
    shopper = make_user("shopper", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=shopper, customer=acme_site.customer)
    assert api_client.as_user(shopper).get("/members").status_code == 403
    outsider = api_client(cast.other_key)
    url = f"/members/{_member_id(cast.viewer)}"
    assert outsider.get(url).status_code == 404
    assert outsider.patch(url, {"role": "owner"}).status_code == 404
    assert outsider.delete(url).status_code == 404
    assert [m["username"] for m in outsider.get("/members").json()["items"]] == ["oscar"]


def test_it_answers_405_to_a_wrong_method(cast, api_client):
    assert api_client(cast.key).put("/members", {}).status_code == 405


def test_it_refuses_a_name_taken_in_the_organization_saying_so(cast, api_client):
    # Names another organization holds are fine: see test_member_names.py.
    taken = _new(api_client(cast.key), username="adam")
    assert field_errors(taken) == {"username": "unique"}
    assert "taken in this organization" in taken.content.decode()


def test_a_role_that_may_not_add_members_cannot_probe_usernames(cast, api_client):
    response = _new(api_client.as_user(cast.agent), username="oscar")
    assert response.status_code == 403
