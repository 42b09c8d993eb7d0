"""``POST /api/v1/devices/bulk``: a fleet in one call, all or nothing."""

from __future__ import annotations

from sofno.core.models import AuditEntry, hash_secret
from sofno.core.testing import field_errors
from sofno.events.models import Event
from sofno.monitoring.models import CustomerMonitoring, Device


def _items(customer, count: int, **fields) -> list[dict]:
    return [
        {"customer": str(customer.public_id), "name": f"Till {n}", **fields} for n in range(count)
    ]


def test_it_creates_every_device_with_its_key_shown_once(cast, api_client, customer):
    CustomerMonitoring.objects.create(customer=customer, checkin_interval=300, grace=30)
    items = _items(customer, 50, os="linux")
    items[7]["checkin_interval"] = 60  # the device's own value wins over the customer's
    response = api_client(cast.key).post("/devices/bulk", {"devices": items})
    assert response.status_code == 201, response.content
    answered = response.json()["devices"]
    assert [d["name"] for d in answered] == [f"Till {n}" for n in range(50)]
    for body in answered:
        device = Device.objects.get(public_id=body["id"])
        assert device.key_hash == hash_secret(body["key"])
        assert device.organization == cast.org
        assert device.key_prefix == body["key"][:10]
    assert len({d["key"] for d in answered}) == 50
    assert (answered[0]["effective_interval"], answered[0]["effective_grace"]) == (300, 30)
    assert answered[7]["effective_interval"] == 60
    assert Event.objects.filter(organization=cast.org, type="device.created").count() == 50
    (audit,) = AuditEntry.objects.filter(action="device.bulk_created")
    assert audit.detail["count"] == 50
    assert "key" not in api_client(cast.key).get(f"/devices/{answered[0]['id']}").json()


def test_it_refuses_the_whole_call_naming_each_broken_item(
    cast, api_client, customer, other_customer
):
    items = _items(customer, 6)
    items[1]["customer"] = str(other_customer.public_id)  # another organization's
    items[3]["pos_software"] = "nope"
    items[4]["name"] = "x" * 201
    items[5]["checkin_interval"] = 1
    response = api_client(cast.key).post("/devices/bulk", {"devices": items})
    assert response.status_code == 422
    # Schema rules first: the call stops there, naming each item's field.
    assert field_errors(response) == {
        "devices.4.name": "string_too_long",
        "devices.5.checkin_interval": "greater_than_equal",
    }
    items[4]["name"], items[5]["checkin_interval"] = "Till 4", 60
    response = api_client(cast.key).post("/devices/bulk", {"devices": items})
    assert response.status_code == 422
    assert field_errors(response) == {
        "devices.1.customer": "unknown",
        "devices.3.pos_software": "unknown",
    }
    assert "devices.1.customer" in response.json()["message"]
    assert not Device.objects.exists()
    assert not Event.objects.filter(type="device.created").exists()


def test_it_takes_at_most_a_thousand_devices_and_at_least_one(cast, api_client, customer):
    api = api_client(cast.key)
    response = api.post("/devices/bulk", {"devices": _items(customer, 1001)})
    assert field_errors(response) == {"devices": "too_long"}
    assert field_errors(api.post("/devices/bulk", {"devices": []})) == {"devices": "too_short"}
    assert not Device.objects.exists()


def test_it_refuses_read_only_keys_and_other_organizations(cast, api_client, customer):
    items = _items(customer, 2)
    assert (
        api_client(cast.readonly_key).post("/devices/bulk", {"devices": items}).status_code == 403
    )
    response = api_client(cast.other_key).post("/devices/bulk", {"devices": items})
    assert field_errors(response) == {
        "devices.0.customer": "unknown",
        "devices.1.customer": "unknown",
    }
    assert api_client(cast.key).get("/devices/bulk").status_code in (404, 405)
    assert not Device.objects.exists()


def test_it_inherits_timing_exactly_as_a_device_created_alone(cast, api_client, customer):
    from sofno.directory.models import Customer
    from sofno.monitoring.actions import defaults_for, effective_timing

    defaults = defaults_for(cast.org)
    defaults.checkin_interval, defaults.grace = 900, 120
    defaults.save()
    graceful = Customer.objects.create(organization=cast.org, name="Bar Sport")
    CustomerMonitoring.objects.create(customer=graceful, grace=0)  # grace only
    items = [
        *_items(customer, 2),
        *_items(graceful, 2),
        {"customer": str(graceful.public_id), "name": "Own", "checkin_interval": 30, "grace": 5},
    ]
    response = api_client(cast.key).post("/devices/bulk", {"devices": items})
    assert response.status_code == 201, response.content
    for body in response.json()["devices"]:
        device = Device.objects.get(public_id=body["id"])
        assert (device.effective_interval, device.effective_grace) == effective_timing(device)
