"""Monitoring settings pages: defaults, POS software, command catalog, customer
timing and maintenance windows."""

import datetime as dt

import pytest
import time_machine

from sofno.core.models import AuditEntry
from sofno.events.models import Event
from sofno.monitoring import actions, checkin, commands
from sofno.monitoring.models import (
    CommandKind,
    CommandTemplate,
    CustomerMonitoring,
    Device,
    MaintenanceWindow,
    MonitoringDefaults,
    PosSoftware,
)
from sofno.monitoring.sweeper import tick
from sofno.notify.routing import policy

MONDAY_10 = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def template(owner_actor):
    return commands.create_template(
        acting_user=owner_actor,
        fields={
            "name": "Restart spooler",
            "kind": CommandKind.RESTART_SERVICE,
            "argument": "Spooler",
        },
    )


# --- organization settings ----------------------------------------------------------


def test_it_shows_the_settings_to_every_member_but_forms_only_to_admins(
    client, cast, template, owner_actor
):
    actions.add_pos_software(acting_user=owner_actor, slug="custom-pos", name="Custom POS")
    page = login(client, cast.viewer).get("/devices/settings/")
    assert page.status_code == 200
    for text in (b"Restart spooler", b"Custom POS", b"Check-in defaults"):
        assert text in page.content
    assert b'id="defaults-form"' not in page.content
    assert b'id="template-form"' not in page.content
    page = login(client, cast.owner).get("/devices/settings/")
    assert b'id="defaults-form"' in page.content and b'id="pos-form"' in page.content
    assert client.post("/devices/settings/").status_code == 405


def test_it_saves_the_defaults_and_devices_follow(client, cast, make_device):
    device, _ = make_device()
    login(client, cast.owner)
    answer = client.post(
        "/devices/settings/defaults/",
        {"checkin_interval": "120", "grace": "30", "flap_window": "600", "site_window": "90"},
    )
    assert answer.status_code == 302
    found = MonitoringDefaults.objects.get(organization=cast.org)
    assert (found.checkin_interval, found.grace, found.flap_window) == (120, 30, 600)
    assert found.site_window == 90
    device.refresh_from_db()
    assert (device.effective_interval, device.effective_grace) == (120, 30)
    assert AuditEntry.objects.filter(action="monitoring.defaults_changed").exists()
    assert client.get("/devices/settings/defaults/").status_code == 405


def test_it_rejects_bad_defaults_naming_the_field(client, cast):
    login(client, cast.owner)
    answer = client.post(
        "/devices/settings/defaults/",
        {"checkin_interval": "5", "grace": "30", "flap_window": "0", "site_window": "60"},
    )
    assert answer.status_code == 422
    assert b'data-field="checkin_interval"' in answer.content
    assert not MonitoringDefaults.objects.filter(organization=cast.org, checkin_interval=5).exists()


def test_it_lets_only_admins_change_organization_settings(client, cast, template):
    for user in (cast.viewer, cast.agent):
        login(client, user)
        assert (
            client.post(
                "/devices/settings/defaults/",
                {
                    "checkin_interval": "120",
                    "grace": "30",
                    "flap_window": "600",
                    "site_window": "120",
                },
            ).status_code
            == 403
        )
        assert client.post("/devices/settings/pos/", {"slug": "x", "name": "X"}).status_code == 403
        assert (
            client.post(
                "/devices/settings/commands/", {"name": "Reboot", "kind": "reboot", "timeout": "60"}
            ).status_code
            == 403
        )
        assert (
            client.post(f"/devices/settings/commands/{template.public_id}/remove/").status_code
            == 403
        )
    assert not PosSoftware.objects.exists()
    assert CommandTemplate.objects.count() == 1


def test_it_adds_and_removes_pos_software(client, cast, make_device):
    login(client, cast.owner)
    assert (
        client.post("/devices/settings/pos/", {"slug": "tillpro", "name": "TillPro"}).status_code
        == 302
    )
    assert ("tillpro", "TillPro") in actions.pos_choices(cast.org)
    # The same slug twice: the field and the rule are named.
    again = client.post("/devices/settings/pos/", {"slug": "tillpro", "name": "Again"})
    assert again.status_code == 422 and b'data-field="slug"' in again.content
    # In use by a device: refused, nothing removed.
    device, _ = make_device(pos_software="tillpro")
    answer = client.post("/devices/settings/pos/tillpro/remove/", follow=True)
    assert b"still the POS software of 1 device" in answer.content
    assert PosSoftware.objects.filter(slug="tillpro").exists()
    Device.objects.filter(pk=device.pk).update(pos_software="")
    assert client.post("/devices/settings/pos/tillpro/remove/").status_code == 302
    assert not PosSoftware.objects.filter(slug="tillpro").exists()
    assert AuditEntry.objects.filter(action="pos_software.removed").exists()
    assert client.get("/devices/settings/pos/").status_code == 405


def test_it_does_not_remove_another_organizations_pos_software(client, cast):
    PosSoftware.objects.create(organization=cast.other_org, slug="globex-pos", name="Globex POS")
    login(client, cast.owner)
    assert client.post("/devices/settings/pos/globex-pos/remove/").status_code == 404
    assert PosSoftware.objects.filter(slug="globex-pos").exists()


def test_it_adds_and_removes_catalog_commands(client, cast):
    login(client, cast.owner)
    answer = client.post(
        "/devices/settings/commands/",
        {
            "name": "Restart POS",
            "kind": "restart_service",
            "argument": "PosService",
            "timeout": "120",
            "allowed_roles": ["agent"],
        },
    )
    assert answer.status_code == 302
    template = CommandTemplate.objects.get(organization=cast.org, name="Restart POS")
    assert (template.argument, template.timeout, template.allowed_roles) == (
        "PosService",
        120,
        ["agent"],
    )
    bad = client.post(
        "/devices/settings/commands/", {"name": "X", "kind": "rm -rf", "timeout": "1"}
    )
    assert bad.status_code == 422 and b'data-field="kind"' in bad.content
    page = client.get("/devices/settings/")
    assert b"Restart POS" in page.content
    assert (
        client.post(f"/devices/settings/commands/{template.public_id}/remove/").status_code == 302
    )
    assert not CommandTemplate.objects.filter(pk=template.pk).exists()
    assert AuditEntry.objects.filter(action="command_template.removed").exists()
    assert client.get(f"/devices/settings/commands/{template.public_id}/remove/").status_code == 405


def test_it_does_not_remove_another_organizations_command(client, cast):
    other = CommandTemplate.objects.create(
        organization=cast.other_org, name="Reboot", kind=CommandKind.REBOOT
    )
    login(client, cast.owner)
    assert client.post(f"/devices/settings/commands/{other.public_id}/remove/").status_code == 404
    assert CommandTemplate.objects.filter(pk=other.pk).exists()


# --- one customer -------------------------------------------------------------------


def test_it_sets_a_customers_timing_and_its_devices_follow(client, cast, customer, make_device):
    device, _ = make_device()
    page = login(client, cast.agent).get(f"/devices/customers/{customer.public_id}/")
    assert page.status_code == 200 and b'id="timing-form"' in page.content
    answer = client.post(
        f"/devices/customers/{customer.public_id}/timing/",
        {"checkin_interval": "90", "grace": "", "site_window": "300"},
    )
    assert answer.status_code == 302
    found = CustomerMonitoring.objects.get(customer=customer)
    assert (found.checkin_interval, found.grace, found.site_window) == (90, None, 300)
    device.refresh_from_db()
    assert device.effective_interval == 90
    assert b"Pizzeria Roma" in client.get("/devices/settings/").content  # listed as override
    bad = client.post(
        f"/devices/customers/{customer.public_id}/timing/", {"checkin_interval": "1", "grace": ""}
    )
    assert bad.status_code == 422 and b'data-field="checkin_interval"' in bad.content
    assert client.get(f"/devices/customers/{customer.public_id}/timing/").status_code == 405


def test_it_shows_a_customers_monitoring_read_only_to_a_viewer(client, cast, customer):
    page = login(client, cast.viewer).get(f"/devices/customers/{customer.public_id}/")
    assert page.status_code == 200
    assert b'id="timing-form"' not in page.content and b'id="window-form"' not in page.content
    for url in ("timing/", "maintenance/"):
        answer = client.post(
            f"/devices/customers/{customer.public_id}/{url}",
            {"checkin_interval": "90", "minutes": "30", "reason": "x"},
        )
        assert answer.status_code == 403
    assert not CustomerMonitoring.objects.filter(checkin_interval=90).exists()
    assert not MaintenanceWindow.objects.exists()


def test_it_hides_another_organizations_customer(client, cast, other_customer):
    login(client, cast.owner)
    base = f"/devices/customers/{other_customer.public_id}/"
    assert client.get(base).status_code == 404
    assert client.post(base + "timing/", {"checkin_interval": "90"}).status_code == 404
    data = {"minutes": "30", "reason": "x"}
    assert client.post(base + "maintenance/", data).status_code == 404
    assert not MaintenanceWindow.objects.exists()


def test_it_starts_a_customer_maintenance_now_and_ends_it_early(
    client, cast, customer, make_device
):
    _device, key = make_device(checkin_interval=60, grace=30)
    with time_machine.travel(MONDAY_10, tick=False):
        checkin.handle(key, None, None)
        login(client, cast.agent)
        answer = client.post(
            f"/devices/customers/{customer.public_id}/maintenance/",
            {"minutes": "120", "reason": "Network rewiring"},
        )
        assert answer.status_code == 302
    window = MaintenanceWindow.objects.get(customer=customer)
    assert window.starts_at == MONDAY_10
    assert window.ends_at == MONDAY_10 + dt.timedelta(hours=2)
    assert window.reason == "Network rewiring"
    with time_machine.travel(MONDAY_10 + dt.timedelta(minutes=5), tick=False):
        tick()
        # Monitoring records the alert; the notification policy holds it back.
        alert = Event.objects.get(type="incident.alert")
        assert policy.hold_for(alert, MONDAY_10 + dt.timedelta(minutes=5)).reason == "maintenance"
        page = client.get(f"/devices/customers/{customer.public_id}/")
        assert b"Network rewiring" in page.content and b"End now" in page.content
    with time_machine.travel(MONDAY_10 + dt.timedelta(minutes=10), tick=False):
        answer = client.post(f"/devices/maintenance/{window.public_id}/end/")
        assert answer.status_code == 302
        assert answer["Location"] == f"/devices/customers/{customer.public_id}/"
        tick()
    assert Event.objects.filter(type="maintenance.ended").exists()
    assert policy.hold_for(alert, MONDAY_10 + dt.timedelta(minutes=10)) is None
    window.refresh_from_db()
    assert window.ends_at == MONDAY_10 + dt.timedelta(minutes=10)


def test_it_schedules_a_customer_maintenance_with_a_start(client, cast, customer):
    login(client, cast.agent)
    with time_machine.travel(MONDAY_10, tick=False):
        answer = client.post(
            f"/devices/customers/{customer.public_id}/maintenance/",
            {"starts_at": "2026-01-06T22:00", "minutes": "60", "reason": "Server upgrade"},
        )
        assert answer.status_code == 302
        page = client.get(f"/devices/customers/{customer.public_id}/")
    window = MaintenanceWindow.objects.get(customer=customer)
    assert window.starts_at.astimezone(dt.UTC) == dt.datetime(2026, 1, 6, 22, 0, tzinfo=dt.UTC)
    assert window.ends_at - window.starts_at == dt.timedelta(hours=1)
    assert b"scheduled" in page.content


def test_it_refuses_a_maintenance_without_a_reason(client, cast, customer):
    login(client, cast.agent)
    answer = client.post(
        f"/devices/customers/{customer.public_id}/maintenance/", {"minutes": "60", "reason": ""}
    )
    assert answer.status_code == 422 and b'data-field="reason"' in answer.content
    assert not MaintenanceWindow.objects.exists()
