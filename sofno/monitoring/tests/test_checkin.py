import datetime as dt

import pytest
import time_machine

from sofno.core.models import hash_secret
from sofno.events.models import Event
from sofno.monitoring.models import CheckIn, Device, DeviceStatus


def checkin(client, key, body=None, **headers):
    auth = {"Authorization": f"Device {key}"} if key else {}
    return client.post(
        "/api/v1/checkin",
        data=body if body is not None else "",
        content_type="application/json",
        headers={**auth, **headers},
    )


@pytest.fixture
def web(client):
    return client


def test_it_stores_only_the_key_hash(make_device):
    device, key = make_device()
    assert key.startswith("dk_") and len(key) > 40
    assert device.key_hash == hash_secret(key)
    stored = Device.objects.filter(pk=device.pk).values()[0]
    assert key not in {str(v) for v in stored.values()}
    assert device.key_prefix == key[:10]


def test_it_puts_a_new_device_online_on_first_checkin(web, make_device):
    device, key = make_device()
    response = checkin(web, key, b'{"hostname": "till-1", "uptime": 42, "disk_free": 1e9}')
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["device"] == str(device.public_id)
    assert body["next_checkin_in"] == 300
    assert body["commands"] == []
    device.refresh_from_db()
    assert device.status == DeviceStatus.ONLINE
    assert device.facts["hostname"] == "till-1"
    assert device.last_ip == "127.0.0.1"
    assert device.local_network
    assert device.alert_after == device.last_checkin_at + dt.timedelta(seconds=420)
    assert CheckIn.objects.filter(device=device).count() == 1
    assert Event.objects.filter(type="device.online").count() == 1


def test_it_answers_401_for_an_unknown_key(web, make_device):
    make_device()
    assert checkin(web, "dk_nope").status_code == 401
    assert checkin(web, "").status_code == 401
    assert web.get("/ping/dk_nope").status_code == 401


def test_it_refuses_an_inactive_device_with_the_customer_message(web, make_device, customer):
    customer.refusal_message = "Unpaid invoices: call us."
    customer.save()
    _device, key = make_device(active=False)
    response = checkin(web, key)
    assert response.status_code == 403
    assert response.json()["message"] == "Unpaid invoices: call us."
    assert not CheckIn.objects.exists()


def test_it_refuses_when_the_customer_is_inactive(web, make_device, customer):
    _device, key = make_device()
    assert checkin(web, key).status_code == 200
    customer.active = False
    customer.refusal_message = "Service suspended."
    customer.save()
    response = web.get(f"/ping/{key}")
    assert response.status_code == 403
    assert response.json()["message"] == "Service suspended."
    assert CheckIn.objects.count() == 1


def test_it_names_the_bad_fact(web, make_device):
    _, key = make_device()
    response = checkin(web, key, b'{"uptime": "long"}')
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "uptime"
    assert checkin(web, key, b"[1, 2]").status_code == 422
    assert checkin(web, key, b"{nope").json()["errors"][0]["rule"] == "json_invalid"


def test_it_answers_413_for_an_oversized_body(web, make_device):
    _, key = make_device()
    body = b'{"hostname": "' + b"x" * 70_000 + b'"}'
    assert checkin(web, key, body).status_code == 413
    # Past Django's own upload limit too: still our 413, not a 400.
    assert checkin(web, key, b"x" * 2_000_000).status_code == 413
    assert web.post(f"/ping/{key}", b"x" * 2_000_000, content_type="text/plain").status_code == 413


def test_it_answers_429_when_a_device_checks_in_absurdly_often(web, make_device):
    _, key = make_device()
    # Early in a minute: core's fixed window must not roll over mid-test.
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 30, 1, tzinfo=dt.UTC)):
        statuses = [web.get(f"/ping/{key}").status_code for _ in range(65)]
    assert statuses[:60] == [200] * 60
    assert statuses[-1] == 429


def test_it_moves_the_deadline_of_an_online_device(web, make_device):
    device, key = make_device(checkin_interval=60, grace=30)
    with time_machine.travel(dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC), tick=False):
        checkin(web, key)
    with time_machine.travel(dt.datetime(2026, 1, 5, 10, 1, tzinfo=dt.UTC), tick=False):
        response = checkin(web, key)
    assert response.json()["next_checkin_in"] == 60
    device.refresh_from_db()
    assert device.alert_after == dt.datetime(2026, 1, 5, 10, 2, 30, tzinfo=dt.UTC)
    assert CheckIn.objects.filter(device=device).count() == 2


def test_it_rejects_the_wrong_method(web, make_device):
    _, key = make_device()
    assert web.get("/api/v1/checkin").status_code == 405
    assert web.delete(f"/ping/{key}").status_code == 405


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (b"[" * 30_000, "body", "json_depth"),
        (b'{"uptime": NaN}', "uptime", "finite"),
        (b'{"disk_free": 1e400}', "disk_free", "finite"),
        (b'{"hostname": "a\\u0000"}', "hostname", "characters"),
        (b'{"agent_version": "' + b"1" * 41 + b'"}', "agent_version", "max_length"),
    ],
)
def test_it_refuses_what_the_database_cannot_store_with_a_json_422(
    web, make_device, body, field, rule
):
    device, key = make_device()
    response = checkin(web, key, body)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0] | {"message": ""} == {
        "field": field,
        "rule": rule,
        "message": "",
    }
    device.refresh_from_db()
    assert device.checkins_seen == 0 and device.status == DeviceStatus.NEW
