"""The layout, the profile page and the organization switcher."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from sofno.core.middleware import SESSION_ORG_KEY
from sofno.core.models import Membership, Organization, Role
from sofno.directory.models import Customer, StaffProfile


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _profile_form(**fields) -> dict[str, str]:
    data = {"phone": "", "timezone": "Europe/Rome", "language": "en"}
    data.update(fields)
    return data


def test_it_shows_the_layout_with_organization_and_navigation(cast):
    page = _client(cast.agent).get(reverse("web:dashboard"))
    assert page.status_code == 200
    assert 'id="org-name">Acme Support<' in page.text
    assert reverse("web:customer-list") in page.text
    assert reverse("web:profile") in page.text and reverse("web:logout") in page.text
    assert 'id="org-switcher"' not in page.text  # one membership: nothing to switch


def test_it_counts_the_organizations_customers_on_the_dashboard(cast):
    Customer.objects.create(organization=cast.org, name="A", active=False)
    Customer.objects.create(organization=cast.org, name="B", alerts_enabled=False)
    Customer.objects.create(organization=cast.other_org, name="Not ours")
    page = _client(cast.viewer).get(reverse("web:dashboard"))
    assert page.context["customer_count"] == 2
    assert "1 inactive" in page.text and "1 with alerts off" in page.text


def test_it_saves_the_profile_with_a_normalized_phone_and_quiet_hours(cast):
    answer = _client(cast.viewer).post(
        reverse("web:profile"),
        _profile_form(phone="+34 912 34 56 78", quiet_hours_0="22:00-24:00", quiet_hours_1="0-7"),
    )
    assert answer.status_code == 302  # read-only roles may change their own profile
    profile = StaffProfile.objects.get(user=cast.viewer)
    assert profile.phone == "+34912345678"
    assert profile.timezone == "Europe/Rome"
    assert profile.quiet_hours == {
        "ranges": [
            {"day": 0, "start": "22:00", "end": "24:00"},
            {"day": 1, "start": "00:00", "end": "07:00"},
        ]
    }
    page = _client(cast.viewer).get(reverse("web:profile"))
    assert 'value="22:00-24:00"' in page.text and 'value="00:00-07:00"' in page.text


def test_it_rejects_a_bad_profile_and_keeps_the_stored_one(cast):
    StaffProfile.objects.filter(user=cast.agent).update(phone="+390612345678")
    client = _client(cast.agent)
    cases = [
        ({"phone": "12345"}, "phone"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"language": "fr"}, "language"),
        ({"quiet_hours_6": "22:00-07:00"}, "quiet_hours"),
        ({"quiet_hours_2": "08:00-12:00, 11:00-13:00"}, "quiet_hours"),
    ]
    for fields, field in cases:
        answer = client.post(reverse("web:profile"), _profile_form(**fields))
        assert answer.status_code == 200, fields
        assert list(answer.context["form"].errors) == [field], fields
    profile = StaffProfile.objects.get(user=cast.agent)
    assert (profile.phone, profile.timezone, profile.quiet_hours) == ("+390612345678", "UTC", {})


def test_it_refuses_wrong_methods_on_account_pages(cast):
    client = _client(cast.agent)
    assert client.put(reverse("web:profile")).status_code == 405
    assert client.get(reverse("web:switch-organization")).status_code == 405


def test_it_switches_between_the_users_organizations(cast):
    Membership.objects.create(organization=cast.other_org, user=cast.agent, role=Role.VIEWER)
    Customer.objects.create(organization=cast.other_org, name="Globex Diner")
    client = _client(cast.agent)
    page = client.get(reverse("web:dashboard"))
    assert 'id="org-switcher"' in page.text and "Globex IT" in page.text
    answer = client.post(
        reverse("web:switch-organization"), {"organization": str(cast.other_org.public_id)}
    )
    assert answer.status_code == 302
    assert client.session[SESSION_ORG_KEY] == cast.other_org.pk
    listing = client.get(reverse("web:customer-list"))
    assert "Globex Diner" in listing.text
    assert 'id="customer-create"' not in listing.text  # a viewer there
    assert client.post(reverse("web:customer-create"), {"name": "X"}).status_code == 403


def test_it_refuses_to_switch_to_an_organization_the_user_is_not_in(cast):
    client = _client(cast.agent)
    for value in (str(cast.other_org.public_id), "not-a-uuid", ""):
        answer = client.post(reverse("web:switch-organization"), {"organization": value})
        assert answer.status_code == 404
    assert SESSION_ORG_KEY not in client.session
    assert Organization.objects.count() == 2


def test_it_explains_a_refusal_and_a_missing_page(cast, django_user_model):
    viewer = _client(cast.viewer)
    refused = viewer.post(reverse("web:customer-create"), {"name": "X"})
    assert refused.status_code == 403 and "Your role may only read." in refused.text
    loner = django_user_model.objects.create_user(username="loner", password="pw-loner")
    alone = _client(loner).get(reverse("web:dashboard"))
    assert alone.status_code == 403 and "not a member of any organization" in alone.text
    missing = viewer.get("/customers/00000000-0000-0000-0000-000000000000/")
    assert missing.status_code == 404 and "belongs to another organization" in missing.text


def test_it_falls_back_to_another_organization_when_the_chosen_one_is_gone(cast):
    membership = Membership.objects.create(
        organization=cast.other_org, user=cast.agent, role=Role.VIEWER
    )
    client = _client(cast.agent)
    client.post(reverse("web:switch-organization"), {"organization": str(cast.other_org.public_id)})
    membership.delete()
    page = client.get(reverse("web:dashboard"))
    assert page.status_code == 200
    assert 'id="org-name">Acme Support<' in page.text
    assert SESSION_ORG_KEY not in client.session


def test_it_follows_next_after_sign_in_only_within_the_site(cast):
    form = {"username": "adam", "password": "pw-adam"}
    outside = Client().post("/login/", {**form, "next": "https://evil.example/"})
    assert outside.status_code == 302 and outside["Location"] == reverse("web:dashboard")
    inside = Client().post("/login/", {**form, "next": "/tickets/"})
    assert inside["Location"] == "/tickets/"
