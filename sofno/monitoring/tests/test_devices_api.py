import datetime as dt

import pytest

from sofno.core.models import AuditEntry, hash_secret
from sofno.core.testing import field_errors
from sofno.events.models import Event
from sofno.monitoring import checkin
from sofno.monitoring.models import Device, Incident
from sofno.monitoring.sweeper import tick


@pytest.fixture
def device(make_device):
    device, key = make_device(checkin_interval=60, grace=0)
    device.key = key
    return device


def test_it_creates_a_device_and_answers_its_key_once(cast, api_client, customer):
    api = api_client(cast.key)
    response = api.post(
        "/devices",
        {
            "customer": str(customer.public_id),
            "name": "Till 1",
            "os": "linux",
            "checkin_interval": 120,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    device = Device.objects.get(public_id=body["id"])
    assert device.key_hash == hash_secret(body["key"])
    assert body["effective_interval"] == 120
    again = api.get(f"/devices/{body['id']}").json()
    assert "key" not in again
    assert Event.objects.filter(type="device.created").count() == 1
    assert AuditEntry.objects.filter(action="device.created").count() == 1


def test_it_names_bad_fields(cast, api_client, customer, other_customer):
    api = api_client(cast.key)
    response = api.post(
        "/devices",
        {"customer": str(customer.public_id), "name": "", "os": "amiga", "checkin_interval": 1},
    )
    assert response.status_code == 422
    assert set(field_errors(response)) == {"name", "os", "checkin_interval"}
    response = api.post("/devices", {"customer": str(other_customer.public_id), "name": "X"})
    assert field_errors(response) == {"customer": "unknown"}
    response = api.post(
        "/devices", {"customer": str(customer.public_id), "name": "X", "pos_software": "nope"}
    )
    assert field_errors(response) == {"pos_software": "unknown"}
    assert not Device.objects.exists()


def test_it_updates_and_deletes(cast, api_client, device):
    api = api_client(cast.key)
    response = api.patch(f"/devices/{device.public_id}", {"name": "Till A", "active": False})
    assert response.status_code == 200
    assert response.json()["status"] == "paused"
    assert api.delete(f"/devices/{device.public_id}").status_code == 204
    assert not Device.objects.exists()
    assert [
        e
        for e in Event.objects.order_by("sequence").values_list("type", flat=True)
        if e.startswith("device.")
    ] == [
        "device.created",
        "device.updated",
        "device.deleted",
    ]


def test_it_rotates_the_key(cast, api_client, device):
    response = api_client(cast.key).post(f"/devices/{device.public_id}/rotate-key")
    new_key = response.json()["key"]
    assert checkin.handle(device.key, None, None).status == 401
    assert checkin.handle(new_key, None, None).status == 200


def test_it_lets_a_read_only_key_only_read(cast, api_client, device, customer):
    api = api_client(cast.readonly_key)
    assert api.get("/devices").json()["count"] == 1
    assert (
        api.post("/devices", {"customer": str(customer.public_id), "name": "X"}).status_code == 403
    )
    assert api.patch(f"/devices/{device.public_id}", {"name": "Y"}).status_code == 403
    assert api.delete(f"/devices/{device.public_id}").status_code == 403


def test_it_hides_devices_from_another_organization(cast, api_client, device):
    api = api_client(cast.other_key)
    assert api.get("/devices").json()["count"] == 0
    assert api.get(f"/devices/{device.public_id}").status_code == 404
    assert api.patch(f"/devices/{device.public_id}", {"name": "Y"}).status_code == 404
    assert api.delete(f"/devices/{device.public_id}").status_code == 404
    assert api.post(f"/devices/{device.public_id}/rotate-key").status_code == 404


def test_it_rejects_the_wrong_method(cast, api_client, device):
    api = api_client(cast.key)
    assert api.put(f"/devices/{device.public_id}", {}).status_code == 405
    assert api.delete("/devices").status_code == 405


def offline_incident(device):
    checkin.handle(device.key, None, None)
    Device.objects.filter(pk=device.pk).update(alert_after=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    tick()
    return Incident.objects.get(device=device)


def test_it_acknowledges_and_resolves_incidents(cast, api_client, device):
    incident = offline_incident(device)
    api = api_client(cast.key)
    listed = api.get("/incidents?status=open").json()
    assert listed["count"] == 1
    response = api.post(f"/incidents/{incident.public_id}/acknowledge", {"note": "on it"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "acknowledged"
    assert response.json()["acknowledged_at"]
    again = api.post(f"/incidents/{incident.public_id}/acknowledge")
    assert again.status_code == 422
    response = api.post(f"/incidents/{incident.public_id}/resolve")
    body = response.json()
    assert body["status"] == "resolved" and body["resolved_at"]
    assert [t["kind"] for t in body["timeline"]] == ["opened", "alert", "acknowledged", "resolved"]
    types = list(Event.objects.values_list("type", flat=True))
    assert "incident.acknowledged" in types and "incident.resolved" in types


def test_it_guards_incidents_by_role_and_organization(cast, api_client, device):
    incident = offline_incident(device)
    path = f"/incidents/{incident.public_id}"
    assert api_client(cast.readonly_key).get(path).status_code == 200
    assert api_client(cast.readonly_key).post(path + "/acknowledge").status_code == 403
    assert api_client(cast.other_key).get(path).status_code == 404
    assert api_client(cast.other_key).post(path + "/resolve").status_code == 404
    assert api_client(cast.other_key).get("/incidents").json()["count"] == 0
    assert api_client(cast.key).get(path + "/acknowledge").status_code == 405


def test_it_lists_the_failure_history(cast, api_client, device):
    offline_incident(device)
    checkin.handle(device.key, None, None)
    periods = api_client(cast.key).get(f"/devices/{device.public_id}/offline-periods").json()
    assert len(periods) == 1 and periods[0]["ended_at"] and periods[0]["duration_s"] > 0


def test_it_creates_and_ends_maintenance(cast, api_client, device, customer):
    api = api_client(cast.key)
    ends = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    response = api.post(
        "/maintenance", {"device": str(device.public_id), "ends_at": ends, "reason": "Disk swap"}
    )
    assert response.status_code == 201, response.content
    window_id = response.json()["id"]
    bad = api.post("/maintenance", {"ends_at": ends, "reason": "x"})
    assert bad.status_code == 422
    both = api.post(
        "/maintenance",
        {
            "device": str(device.public_id),
            "customer": str(customer.public_id),
            "ends_at": ends,
            "reason": "x",
        },
    )
    assert both.status_code == 422
    assert api_client(cast.readonly_key).post(f"/maintenance/{window_id}/end").status_code == 403
    assert api_client(cast.other_key).post(f"/maintenance/{window_id}/end").status_code == 404
    ended = api.post(f"/maintenance/{window_id}/end")
    assert ended.status_code == 200
    assert dt.datetime.fromisoformat(ended.json()["ends_at"]) <= dt.datetime.now(dt.UTC)


def test_it_enrolls_an_agent_with_the_customer_token(cast, api_client, client, customer):
    token = (
        api_client(cast.key).post(f"/customers/{customer.public_id}/enrollment-token").json()["key"]
    )
    response = client.post(
        "/api/v1/enroll",
        {"token": token, "name": "till-9", "os": "linux", "facts": {"hostname": "till-9"}},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    device = Device.objects.get(public_id=body["device"])
    assert device.customer == customer and device.facts == {"hostname": "till-9"}
    assert checkin.handle(body["key"], None, None).status == 200
    assert len(body["public_key"]) == 44
    bad = client.post(
        "/api/v1/enroll", {"token": "et_nope", "name": "x"}, content_type="application/json"
    )
    assert bad.status_code == 401
    customer.active = False
    customer.save()
    refused = client.post(
        "/api/v1/enroll", {"token": token, "name": "x"}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert (
        api_client(cast.other_key)
        .post(f"/customers/{customer.public_id}/enrollment-token")
        .status_code
        == 404
    )


def test_it_lets_the_organization_extend_the_pos_choices(cast, api_client, customer):
    api = api_client(cast.key)
    response = api.post("/pos-software", {"slug": "revo", "name": "Revo XEF"})
    assert response.status_code == 201, response.content
    assert field_errors(api.post("/pos-software", {"slug": "revo", "name": "Again"})) == {
        "slug": "unique"
    }
    assert field_errors(api.post("/pos-software", {"slug": "Bad Slug", "name": "X"})) == {
        "slug": "string_pattern_mismatch"
    }
    assert (
        api_client(cast.readonly_key).post("/pos-software", {"slug": "x", "name": "X"}).status_code
        == 403
    )
    slugs = [p["slug"] for p in api.get("/pos-software").json()]
    assert "revo" in slugs and "other" in slugs
    assert "revo" not in [p["slug"] for p in api_client(cast.other_key).get("/pos-software").json()]
    created = api.post(
        "/devices", {"customer": str(customer.public_id), "name": "T", "pos_software": "revo"}
    )
    assert created.status_code == 201 and created.json()["pos_software"] == "revo"
    assert api.delete("/pos-software").status_code == 405
