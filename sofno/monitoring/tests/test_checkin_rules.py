"""The check-in rules are written once: the same check-ins through the batched
statement (the ASGI fast path) and through the Django path store the same rows."""

import asyncio
import datetime as dt

import pytest
import time_machine
from django.forms.models import model_to_dict

from sofno.core.ratelimit import Rate
from sofno.monitoring import checkin, checkin_rules, conf
from sofno.monitoring.models import CheckIn, Device
from sofno.monitoring.tests.test_fastpath import auth, run

pytestmark = pytest.mark.django_db(transaction=True)

START = dt.datetime(2026, 3, 2, 9, 0, 5, tzinfo=dt.UTC)
# (seconds after START, [(client address, body) sent together])
STEPS = [
    (0, [("198.51.100.1", {"hostname": "till-1", "agent_version": "1.0"})]),
    (60, [("198.51.100.1", {"uptime": 60, "disk_free": 5e9, "mood": "ignored"})]),
    (120, [("198.51.100.2", {"agent_version": "", "os_version": "Windows 11"})]),
    (180, [("198.51.100.2", None)]),
    (240, [("198.51.100.3", {"agent_version": "1.1", "uptime": 240})]),
    (300, [("198.51.100.3", {"uptime": 300}), ("198.51.100.4", {"disk_free": 4e9})]),
]
# Not compared: what differs between two devices by construction.
OWN = {"id", "name", "public_id", "key_hash", "key_prefix", "created_at", "updated_at"}


def _device_row(device: Device) -> dict:
    device.refresh_from_db()
    row = model_to_dict(device, exclude=[])
    row.update({f: getattr(device, f) for f in ("alert_after", "status_changed_at")})
    row.update(checkins_seen=device.checkins_seen, effective_interval=device.effective_interval)
    return {k: v for k, v in row.items() if k not in OWN}


def _history(device: Device) -> list[tuple]:
    return list(
        CheckIn.objects.filter(device=device)
        .order_by("slot")
        .values_list("slot", "seq", "at", "ip", "facts")
    )


def test_it_stores_the_same_rows_through_both_paths(make_device, settings, monkeypatch):
    monkeypatch.setenv("SOFNO_CHECKIN_HISTORY", "4")  # six check-ins wrap the ring
    settings.TRUSTED_PROXIES = ["203.0.113.0/24"]  # the test client's address
    batched, batched_key = make_device("Till batched", checkin_interval=60, grace=30)
    django_path, django_key = make_device("Till django", checkin_interval=60, grace=30)

    for seconds, sends in STEPS:
        with time_machine.travel(START + dt.timedelta(seconds=seconds), tick=False):

            async def go(client, sends=sends):
                return await asyncio.gather(
                    *(
                        client.post(
                            "/api/v1/checkin",
                            headers={**auth(batched_key), "X-Forwarded-For": ip},
                            json=body,
                        )
                        for ip, body in sends
                    )
                )

            assert [a.status_code for a in run(go)] == [200] * len(sends)
            for ip, body in sends:
                facts = checkin.clean_facts(body) if body else None
                assert checkin.handle(django_key, ip, facts).status == 200

    assert _device_row(batched) == _device_row(django_path)
    assert _history(batched) == _history(django_path)
    # And the rows say what the rules say.
    batched.refresh_from_db()
    assert batched.checkins_seen == 7
    assert batched.alert_after == START + dt.timedelta(seconds=300 + 90)
    assert batched.agent_version == "1.1"
    assert "mood" not in batched.facts
    assert [slot for slot, *_ in _history(batched)] == [0, 1, 2, 3]
    assert {seq for _, seq, *_ in _history(batched)} == {4, 5, 6, 7}


def test_it_derives_the_sql_deadline_from_the_model_fields():
    sql = checkin_rules.deadline_sql("d", "$9")
    assert all(f"d.{name}" in sql for name in Device.DEADLINE_FIELDS)
    device = Device(effective_interval=60, effective_grace=30)
    assert device.deadline_from(START) == START + dt.timedelta(seconds=90)


@pytest.mark.parametrize(
    ("setting", "rate"),
    [("60", Rate(60, 60)), ("10/second", Rate(10, 1)), ("off", None), ("0", None)],
)
def test_it_reads_the_checkin_rate_as_a_core_rate(monkeypatch, setting, rate):
    monkeypatch.setenv("SOFNO_CHECKIN_RATE", setting)
    assert conf.checkin_rate() == rate
    assert checkin.RateLimiter().rate == rate


def test_it_limits_each_device_per_window_with_cores_counting():
    limiter = checkin.RateLimiter(Rate(2, 60))
    with time_machine.travel(START, tick=False):
        assert [limiter.allow("device-a") for _ in range(3)] == [True, True, False]
        assert limiter.allow("device-b")  # per device
    with time_machine.travel(START + dt.timedelta(seconds=60), tick=False):
        assert limiter.allow("device-a")  # a new window
        assert limiter.counter.peek("device-a", int(START.timestamp()) // 60 * 60) == 0
