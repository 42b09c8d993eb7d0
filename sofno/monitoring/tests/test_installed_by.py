"""Who installed a computer: recorded by enrollment link or by hand, and notified."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from sofno.core.access import Actor
from sofno.core.models import Membership, Role
from sofno.core.testing import ApiClient, make_user
from sofno.directory.models import Customer
from sofno.monitoring import actions
from sofno.monitoring.models import Device, DeviceStatus
from sofno.notify.models import Delivery, NotificationRule
from sofno.notify.routing.dispatcher import dispatch_organization


@pytest.fixture
def shop(cast):
    return Customer.objects.create(organization=cast.org, name="Café Central")


def _enroll(client: Client, token: str, name: str) -> dict:
    answer = client.post(
        "/api/v1/enroll",
        {"token": token, "name": name, "os": "windows"},
        content_type="application/json",
    )
    assert answer.status_code in (200, 201), answer.content
    return answer.json()


def test_it_records_the_staff_member_whose_enrollment_link_was_used(cast, shop):
    adam = ApiClient.as_user(cast.agent)
    link = adam.post(f"/customers/{shop.public_id}/enrollment-link")
    assert link.status_code == 200, link.content
    shared = ApiClient(cast.key).post(f"/customers/{shop.public_id}/enrollment-token")
    _enroll(Client(), link.json()["key"], "Till 1")
    _enroll(Client(), shared.json()["key"], "Till 2")
    assert Device.objects.get(name="Till 1").installed_by == cast.agent
    assert Device.objects.get(name="Till 2").installed_by is None
    # A second link of the same person replaces the first.
    again = adam.post(f"/customers/{shop.public_id}/enrollment-link").json()["key"]
    refused = Client().post(
        "/api/v1/enroll",
        {"token": link.json()["key"], "name": "Till 3", "os": "windows"},
        content_type="application/json",
    )
    assert refused.status_code == 401
    _enroll(Client(), again, "Till 3")


def test_it_sets_the_installer_by_hand_and_refuses_non_staff(cast, shop):
    device, _ = actions.create_device(
        acting_user=Actor(organization=cast.org, role=Role.OWNER, user=cast.owner),
        customer=shop,
        fields={"name": "Till 1"},
    )
    api = ApiClient(cast.key)
    member = Membership.objects.get(organization=cast.org, user=cast.agent).public_id
    answer = api.patch(f"/devices/{device.public_id}", {"installed_by": str(member)})
    assert answer.status_code == 200, answer.content
    assert answer.json()["installed_by"] == cast.agent.username
    carla = make_user("carla", cast.org, Role.CUSTOMER)
    refused = api.patch(f"/devices/{device.public_id}", {"installed_by": carla.username})
    assert refused.status_code == 422 and "installed_by" in refused.content.decode()
    outsider = api.patch(f"/devices/{device.public_id}", {"installed_by": cast.outsider.username})
    assert outsider.status_code == 422
    cleared = api.patch(f"/devices/{device.public_id}", {"installed_by": None})
    assert cleared.status_code == 200 and cleared.json()["installed_by"] is None


def test_a_rule_notifies_the_person_who_installed_the_computer(cast, shop):
    other = make_user("ines", cast.org, Role.AGENT)
    link = actions.issue_enrollment_link(
        acting_user=Actor(organization=cast.org, role=Role.AGENT, user=cast.agent), customer=shop
    )
    device, _ = actions.enroll(token=link, name="Till 1", os="windows", facts={})
    lone, _ = actions.enroll(token=link, name="Back office", os="windows", facts={})
    NotificationRule.objects.create(
        organization=cast.org,
        name="Tell the installer",
        event_types=["device.offline"],
        recipients=[{"kind": "installer"}],
        channels=["inapp"],
    )
    past = timezone.now() - dt.timedelta(minutes=5)
    Device.objects.filter(pk=device.pk).update(
        status=DeviceStatus.ONLINE, last_checkin_at=past, alert_after=past
    )
    actions.sweep_offline()
    while dispatch_organization(cast.org.pk):
        pass
    deliveries = Delivery.objects.filter(event__type="device.offline")
    assert [d.recipient_user for d in deliveries] == [cast.agent]
    assert other not in {d.recipient_user for d in deliveries}
    assert lone.installed_by == cast.agent


def test_the_enrollment_page_gives_a_person_their_own_link(cast, shop):
    client = Client()
    client.force_login(cast.agent)
    page = client.post("/devices/enroll/", {"customer": str(shop.public_id), "mine": "1"})
    assert page.status_code == 200
    assert "record you as their installer" in page.text
    token = page.text.split('id="enrollment-token" readonly value="', 1)[1].split('"', 1)[0]
    device, _ = actions.enroll(token=token, name="Till 9", os="windows", facts={})
    assert device.installed_by == cast.agent
    shown = client.get(f"/devices/{device.public_id}/")
    assert cast.agent.username in shown.text.split('id="device-installer">', 1)[1][:200]
