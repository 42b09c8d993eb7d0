import datetime as dt

import pytest

from sofno.directory.models import Customer, StaffProfile
from sofno.monitoring import checkin
from sofno.monitoring.models import CommandKind, CommandTemplate, Device, Incident, IncidentStatus
from sofno.monitoring.sweeper import tick


@pytest.fixture
def device(make_device):
    device, key = make_device(checkin_interval=60, grace=0)
    checkin.handle(key, "10.1.2.3", {"hostname": "till-one", "disk_free": 5_000_000})
    device.refresh_from_db()
    device.key = key
    return device


@pytest.fixture
def incident(device):
    Device.objects.filter(pk=device.pk).update(alert_after=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    tick()
    return Incident.objects.get(device=device)


def login(client, user):
    client.force_login(user)
    return client


def test_it_lists_devices_with_live_status(client, cast, device):
    page = login(client, cast.viewer).get("/devices/")
    assert page.status_code == 200
    assert b"Till 1" in page.content and b"local network" in page.content
    assert b"device-create" not in page.content  # a viewer cannot create
    status = client.get("/devices/status.json").json()["devices"]
    assert status == [
        {
            "id": str(device.public_id),
            "status": "online",
            "label": "Online",
            "class": "success",
            "last_checkin_at": device.last_checkin_at.isoformat(),
        }
    ]
    assert client.post("/devices/status.json").status_code == 405


def test_it_shows_a_device_with_facts_and_history(client, cast, device, incident):
    page = login(client, cast.agent).get(f"/devices/{device.public_id}/")
    assert page.status_code == 200
    for text in (b"till-one", b"10.1.2.3", b"still offline", b"Start maintenance now"):
        assert text in page.content


def test_it_creates_a_device_and_shows_the_key_once(client, cast, customer):
    login(client, cast.agent)
    page = client.post(
        "/devices/new/",
        {"name": "Till 9", "customer": str(customer.public_id), "os": "linux", "active": "on"},
    )
    assert page.status_code == 200, page.content
    device = Device.objects.get(name="Till 9")
    key = page.context["key"]
    assert key.encode() in page.content
    assert checkin.handle(key, None, None).status == 200
    assert key.encode() not in client.get(f"/devices/{device.public_id}/").content
    bad = client.post(
        "/devices/new/", {"name": "", "customer": str(customer.public_id), "os": "amiga"}
    )
    assert bad.status_code == 200 and set(bad.context["form"].errors) == {"name", "os"}


def test_it_edits_and_deletes(client, cast, device):
    login(client, cast.agent)
    response = client.post(
        f"/devices/{device.public_id}/edit/",
        {
            "name": "Till A",
            "customer": str(device.customer.public_id),
            "os": "windows",
            "active": "on",
            "checkin_interval": "120",
        },
    )
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.name == "Till A" and device.effective_interval == 120
    assert client.get(f"/devices/{device.public_id}/delete/").status_code == 405
    assert client.post(f"/devices/{device.public_id}/delete/").status_code == 302
    assert not Device.objects.exists()


def test_it_lets_a_viewer_only_read(client, cast, device, customer):
    login(client, cast.viewer)
    assert client.get("/devices/new/").status_code == 403
    assert client.post(f"/devices/{device.public_id}/delete/").status_code == 403
    assert (
        client.post(
            f"/devices/{device.public_id}/maintenance/", {"minutes": 5, "reason": "x"}
        ).status_code
        == 403
    )


def test_it_hides_another_organizations_devices(client, cast, device, incident):
    login(client, cast.outsider)
    assert b"Till 1" not in client.get("/devices/").content
    assert client.get(f"/devices/{device.public_id}/").status_code == 404
    assert client.post(f"/devices/{device.public_id}/delete/").status_code == 404
    assert client.get(f"/incidents/{incident.public_id}/").status_code == 404
    assert client.post(f"/incidents/{incident.public_id}/resolve/").status_code == 404
    assert client.get("/devices/status.json").json() == {"devices": []}
    template = CommandTemplate.objects.create(
        organization=cast.org, name="Logs", kind=CommandKind.COLLECT_LOGS, argument="system"
    )
    response = client.post(
        f"/devices/{device.public_id}/commands/", {"template": str(template.public_id)}
    )
    assert response.status_code == 404
    assert Device.objects.filter(pk=device.pk).exists()


def test_it_issues_commands_and_starts_maintenance(client, cast, device):
    template = CommandTemplate.objects.create(
        organization=cast.org, name="Logs", kind=CommandKind.COLLECT_LOGS, argument="system"
    )
    login(client, cast.agent)
    denied = client.post(
        f"/devices/{device.public_id}/commands/", {"template": str(template.public_id)}
    )
    assert denied.status_code == 403  # agents need the template to allow them
    login(client, cast.owner)
    ok = client.post(
        f"/devices/{device.public_id}/commands/", {"template": str(template.public_id)}
    )
    assert ok.status_code == 302
    assert device.commands.count() == 1
    client.post(f"/devices/{device.public_id}/maintenance/", {"minutes": 30, "reason": "Swap"})
    assert device.maintenance.get().reason == "Swap"


def test_it_acknowledges_and_resolves_incidents_on_the_page(client, cast, incident):
    login(client, cast.agent)
    page = client.get("/incidents/")
    assert page.status_code == 200 and b"Acknowledge" in page.content
    client.post(f"/incidents/{incident.public_id}/acknowledge/", {"next": "list"})
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED
    assert incident.acknowledged_by == cast.agent
    detail = client.get(f"/incidents/{incident.public_id}/")
    assert b"adam" in detail.content
    client.post(f"/incidents/{incident.public_id}/resolve/")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.resolved_by == cast.agent
    assert client.get(f"/incidents/{incident.public_id}/resolve/").status_code == 405
    login(client, cast.viewer)
    assert client.post(f"/incidents/{incident.public_id}/acknowledge/").status_code == 403


def test_it_tells_a_site_incident_in_the_readers_language(client, cast, api_client, make_device):
    keys = []
    for n in (1, 2, 3):
        _till, key = make_device(f"Till {n}", checkin_interval=60, grace=0)
        checkin.handle(key, None, None)
        keys.append(key)
    Device.objects.update(alert_after=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    tick()  # all three silent together: one site incident
    checkin.handle(keys[0], None, None)  # one back: partial recovery
    site = Incident.objects.get(kind="site")
    StaffProfile.objects.filter(user=cast.agent).update(language="es")
    login(client, cast.agent)
    page = client.get(f"/incidents/{site.public_id}/").content.decode()
    title = "Pizzeria Roma sin servicio (2 de 3 equipos desconectados)"
    assert f"<title>{title}" in page and f'<h1 class="h3 m-0">{title} ' in page
    timeline = page.split('id="timeline"', 1)[1]
    assert "3 equipos desconectados a la vez: Till 1, Till 2, Till 3." in timeline
    assert "No queda ningún equipo de este cliente en línea: se avisa ya." in timeline
    assert "Till 1 ha vuelto (2 de 3 siguen desconectados)." in timeline
    for english in ("is down", "offline together", "alert now", "is back", "{'"):
        assert english not in page
    listed = client.get("/incidents/").content.decode()
    assert f'aria-label="Seleccionar {title}"' in listed
    # The API says the same in the request's language; the stored title stays English.
    body = api_client(cast.key).get(f"/incidents/{site.public_id}", **{"Accept-Language": "it"})
    said = [t["message"] for t in body.json()["timeline"]]
    assert said[0] == "3 computer offline insieme: Till 1, Till 2, Till 3."
    assert said[-1] == "Till 1 è tornato (2 su 3 ancora offline)."
    assert body.json()["title"] == "Pizzeria Roma is down (2 of 3 computers offline)"


def test_it_shows_the_map_with_located_devices(client, cast, device):
    Device.objects.filter(pk=device.pk).update(
        latitude=41.9, longitude=12.5, city="Rome", country="IT", local_network=False
    )
    login(client, cast.viewer)
    page = client.get("/devices/map/")
    assert page.status_code == 200 and b"lib/leaflet/leaflet.js" in page.content
    data = client.get("/devices/map.json").json()
    (marker,) = data["devices"]
    assert marker["lat"] == 41.9 and marker["place"] == "Rome, IT"
    assert not marker["approximate"] and marker["status_label"] == "Online"
    assert marker["google"] == "https://www.google.com/maps/search/?api=1&query=41.90000%2C12.50000"
    assert data["unplaced"] == []


def test_it_puts_a_device_known_by_its_country_at_the_country_centre(
    client, cast, device, make_device
):
    Device.objects.filter(pk=device.pk).update(country="ES", local_network=False)
    local, _ = make_device("Back office PC")
    Device.objects.filter(pk=local.pk).update(local_network=True)
    login(client, cast.viewer)
    data = client.get("/devices/map.json").json()
    (marker,) = data["devices"]
    assert marker["approximate"] and (marker["lat"], marker["lon"]) == (40.0, -4.0)
    assert [d["name"] for d in data["unplaced"]] == ["Back office PC"]
    assert data["unplaced"][0]["place"] == "local network"
    # Its customer's country known: the local device stands there instead.
    Customer.objects.filter(pk=local.customer_id).update(country="IT")
    data = client.get("/devices/map.json").json()
    at = {d["name"]: (d["lat"], d["lon"], d["approximate"]) for d in data["devices"]}
    assert at["Back office PC"] == (42.83333333, 12.83333333, True)
    assert data["unplaced"] == []


def test_it_serves_the_world_outline_for_a_map_without_internet(client, cast):
    login(client, cast.viewer)
    world = client.get("/devices/map/world.json").json()
    assert world["type"] == "FeatureCollection" and len(world["features"]) > 150
    assert {"ITA", "ESP"} <= {f.get("id") for f in world["features"]}


def test_it_hands_out_an_enrollment_token_once(client, cast, customer, other_customer):
    login(client, cast.agent)
    assert client.get("/devices/enroll/").status_code == 200
    page = client.post("/devices/enroll/", {"customer": str(customer.public_id)})
    token = page.context["token"]
    assert token.startswith("et_") and token.encode() in page.content
    from sofno.monitoring.actions import enroll

    device, _ = enroll(token=token, name="till-x", os="linux", facts={})
    assert device.customer == customer
    other = client.post("/devices/enroll/", {"customer": str(other_customer.public_id)})
    assert other.status_code == 404
    login(client, cast.viewer)
    assert client.post("/devices/enroll/", {"customer": str(customer.public_id)}).status_code == 403
