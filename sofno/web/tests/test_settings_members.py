"""Members and roles pages, and invitations by email through a real loopback SMTP server."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from sofno.core.access import Actor
from sofno.core.models import Membership, Role
from sofno.core.testing import make_user
from sofno.directory.actions import invitations
from sofno.directory.models import Customer, CustomerUser, Invitation


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def owner_of(cast) -> Actor:
    return Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)


@pytest.fixture
def customer(cast) -> Customer:
    return Customer.objects.create(organization=cast.org, name="Pizzeria Roma")


@pytest.fixture
def customer_user(cast, customer):
    user = make_user("cora", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=user, customer=customer)
    return user


PASSWORD = "a long secret 42"


def account(username: str, again: str = PASSWORD) -> dict[str, str]:
    """What an invitee types on the invitation page."""
    return {"username": username, "password": PASSWORD, "password_again": again}


def membership(user) -> Membership:
    return Membership.objects.get(user=user)


def test_it_lists_members_with_their_roles_in_words(cast, customer_user):
    html = login(cast.viewer).get("/settings/members/").content.decode()
    assert "olivia" in html and "adam" in html and "cora" in html and "oscar" not in html
    assert "Agent / technician" in html and "Customer user" in html and "Pizzeria Roma" in html
    assert ">agent<" not in html and "invite-member" not in html  # a viewer only reads
    owner_html = login(cast.owner).get("/settings/members/").content.decode()
    assert "invite-member" in owner_html and "Change role" in owner_html


def test_it_links_the_settings_index_from_the_nav(cast):
    html = login(cast.agent).get("/settings/").content.decode()
    assert 'id="settings-link"' in html and "/settings/members/" in html
    assert "/settings/api-keys/" not in html  # keys are for owners and admins
    assert "/settings/api-keys/" in login(cast.owner).get("/settings/").content.decode()


def test_it_refuses_the_wrong_method(cast):
    client = login(cast.owner)
    target = membership(cast.agent).public_id
    assert client.post("/settings/members/").status_code == 405
    assert client.get(f"/settings/members/{target}/remove/").status_code == 405
    assert client.put("/settings/members/invite/").status_code == 405
    assert client.post("/settings/").status_code == 405


@pytest.mark.parametrize("who", ["viewer", "agent"])
def test_it_lets_other_staff_read_but_not_change(cast, who):
    client = login(getattr(cast, who))
    target = membership(cast.viewer if who == "agent" else cast.agent)
    assert client.get("/settings/members/").status_code == 200
    assert client.get("/settings/members/invite/").status_code == 403
    assert client.post("/settings/members/invite/", {"email": "x@example.com"}).status_code == 403
    assert client.get(f"/settings/members/{target.public_id}/").status_code == 403
    response = client.post(f"/settings/members/{target.public_id}/", {"role": "owner"})
    assert response.status_code == 403
    assert client.post(f"/settings/members/{target.public_id}/remove/").status_code == 403
    target.refresh_from_db()
    assert target.role != Role.OWNER and not Invitation.objects.exists()


def test_it_hides_another_organizations_members(cast):
    client = login(cast.outsider)
    target = membership(cast.agent).public_id
    assert client.get(f"/settings/members/{target}/").status_code == 404
    assert client.post(f"/settings/members/{target}/", {"role": "viewer"}).status_code == 404
    assert client.post(f"/settings/members/{target}/remove/").status_code == 404
    assert "adam" not in client.get("/settings/members/").content.decode()
    assert membership(cast.agent).role == Role.AGENT


def test_it_denies_customer_users(cast, customer_user):
    client = login(customer_user)
    for url in ("/settings/", "/settings/members/", "/settings/members/invite/"):
        assert client.get(url).status_code == 403, url
    assert 'id="settings-link"' not in client.get("/portal/").content.decode()


def test_it_changes_a_role_and_links_a_customer(cast, customer):
    client = login(cast.owner)
    target = membership(cast.agent)
    url = f"/settings/members/{target.public_id}/"
    assert client.get(url).status_code == 200
    missing = client.post(url, {"role": "customer", "customer": ""})
    assert missing.status_code == 200
    assert 'data-field="customer"' in missing.content.decode()
    response = client.post(url, {"role": "customer", "customer": str(customer.public_id)})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == Role.CUSTOMER
    assert CustomerUser.objects.get(user=cast.agent).customer == customer
    client.post(url, {"role": "viewer", "customer": ""})
    target.refresh_from_db()
    assert target.role == Role.VIEWER and not CustomerUser.objects.filter(user=cast.agent).exists()


def test_it_keeps_the_last_owner_and_owner_only_grants(cast):
    client = login(cast.owner)
    url = f"/settings/members/{membership(cast.owner).public_id}/"
    response = client.post(url, {"role": "admin"})
    html = response.content.decode()
    assert response.status_code == 200 and 'data-field="role"' in html
    assert "at least one owner" in html
    assert membership(cast.owner).role == Role.OWNER
    admin = make_user("ada", cast.org, Role.ADMIN)
    as_admin = login(admin)
    agent_url = f"/settings/members/{membership(cast.agent).public_id}/"
    promoted = as_admin.post(agent_url, {"role": "owner"})
    assert promoted.status_code == 200 and 'data-field="role"' in promoted.content.decode()
    assert as_admin.post(url, {"role": "viewer"}).status_code == 403  # an owner is not theirs
    assert membership(cast.agent).role == Role.AGENT and membership(cast.owner).role == Role.OWNER


def test_it_removes_a_member_but_never_the_last_owner(cast):
    client = login(cast.owner)
    response = client.post(f"/settings/members/{membership(cast.agent).public_id}/remove/")
    assert response.status_code == 302
    assert not Membership.objects.filter(user=cast.agent).exists()
    last = client.post(f"/settings/members/{membership(cast.owner).public_id}/remove/", follow=True)
    assert "last owner" in last.content.decode()
    assert Membership.objects.filter(user=cast.owner, role=Role.OWNER).exists()


def _link_in(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/invite/\S+/", body).group(0)


def test_it_invites_by_email_end_to_end(cast, customer, smtp):
    client = login(cast.owner)
    assert client.get("/settings/members/invite/").status_code == 200
    response = client.post(
        "/settings/members/invite/",
        {"email": "carla@pizzeria.test", "role": "customer", "customer": str(customer.public_id)},
    )
    assert response.status_code == 200 and 'id="invitation-sent"' in response.content.decode()
    assert len(smtp.messages) == 1
    received = smtp.messages[0]
    assert received.rcpt_tos == ["carla@pizzeria.test"]
    assert "Acme Support" in received.message["Subject"]
    body = received.message.get_body(preferencelist=("plain",)).get_content()
    assert "Acme Support" in body and "Customer user" in body
    assert "&amp;" not in body and "Valid until" in body
    link = _link_in(received.message)
    path = link.split("://", 1)[1].split("/", 1)[1]
    invitation = Invitation.objects.get()
    assert invitation.token_hash not in link and path.split("/")[1] not in invitation.token_hash

    invitee = Client()  # a fresh browser: nobody signed in
    page = invitee.get("/" + path)
    assert page.status_code == 200 and "Customer user" in page.content.decode()
    mismatch = invitee.post("/" + path, account("carla", again="x"))
    assert 'data-field="password_again"' in mismatch.content.decode()
    done = invitee.post(
        "/" + path,
        account("carla"),
    )
    assert done.status_code == 302
    carla = get_user_model().objects.get(username="carla")
    assert carla.email == "carla@pizzeria.test" and carla.check_password(PASSWORD)
    assert Membership.objects.get(user=carla, organization=cast.org).role == Role.CUSTOMER
    assert CustomerUser.objects.get(user=carla).customer == customer
    assert invitee.get("/portal/").status_code == 200  # signed in as the new member

    again = Client()
    assert again.get("/" + path).status_code == 410  # the link works once
    reuse = again.post(
        "/" + path,
        account("carla2"),
    )
    assert reuse.status_code == 410 and not get_user_model().objects.filter(username="carla2")
    assert again.login(username="carla", password=PASSWORD)


def test_it_refuses_an_expired_link(cast):
    invitation, token = invitations.invite(
        acting_user=owner_of(cast), fields={"email": "late@example.com", "role": "agent"}
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    client = Client()
    assert client.get(f"/invite/{token}/").status_code == 410
    form = account("late")
    assert client.post(f"/invite/{token}/", form).status_code == 410
    assert client.get("/invite/not-a-token/").status_code == 410
    assert not get_user_model().objects.filter(username="late").exists()
    assert "expired" in login(cast.owner).get("/settings/members/").content.decode()


def test_it_kills_the_link_when_the_inviter_may_no_longer_invite(cast):
    admin = make_user("ada", cast.org, Role.ADMIN)
    actor = Actor(organization=cast.org, role=Role.ADMIN, user=admin)
    _, token = invitations.invite(acting_user=actor, fields={"email": "n@example.com"})
    Membership.objects.filter(user=admin).update(role=Role.VIEWER)
    form = account("newbie")
    assert Client().post(f"/invite/{token}/", form).status_code == 410
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_it_names_the_field_of_bad_input(cast, smtp):
    client = login(cast.owner)
    bad = client.post("/settings/members/invite/", {"email": "not-an-email", "role": "agent"})
    assert bad.status_code == 200 and 'data-field="email"' in bad.content.decode()
    odd = client.post("/settings/members/invite/", {"email": "a@example.com", "role": "wizard"})
    assert 'data-field="role"' in odd.content.decode()
    taken_email = {"email": "ADAM@example.com", "role": "agent"}
    member = client.post("/settings/members/invite/", taken_email)
    assert 'data-field="email"' in member.content.decode()
    assert "member already" in member.content.decode()
    assert not Invitation.objects.exists() and not smtp.messages
    _, token = invitations.invite(acting_user=owner_of(cast), fields={"email": "b@example.com"})
    taken = Client().post(
        f"/invite/{token}/",
        account("adam"),
    )
    assert taken.status_code == 200 and 'data-field="username"' in taken.content.decode()
    odd_name = Client().post(f"/invite/{token}/", account("bea trice!"))
    assert odd_name.status_code == 200 and 'data-field="username"' in odd_name.content.decode()
    empty = Client().post(f"/invite/{token}/", {})
    assert empty.status_code == 200 and 'data-field="password"' in empty.content.decode()
    short = Client().post(
        f"/invite/{token}/", {"username": "bea", "password": "abc", "password_again": "abc"}
    )
    assert 'data-field="password"' in short.content.decode()
    assert Invitation.objects.get(email="b@example.com").accepted_at is None


def test_it_shows_the_link_when_no_mail_server_is_set_up(cast):
    response = login(cast.owner).post(
        "/settings/members/invite/", {"email": "c@example.com", "role": "viewer"}
    )
    html = response.content.decode()
    assert 'id="invitation-not-sent"' in html and "/invite/" in html
    assert response["Cache-Control"] == "no-store"


def test_it_withdraws_an_invitation(cast):
    invitation, token = invitations.invite(
        acting_user=owner_of(cast), fields={"email": "d@example.com", "role": "agent"}
    )
    url = f"/settings/invitations/{invitation.public_id}/withdraw/"
    assert login(cast.outsider).post(url).status_code == 404
    assert login(cast.viewer).post(url).status_code == 403
    assert login(cast.owner).get(url).status_code == 405
    assert login(cast.owner).post(url).status_code == 302
    assert Client().get(f"/invite/{token}/").status_code == 410
