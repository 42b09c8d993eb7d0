"""One bad check-in never fails its neighbours: bad bodies are refused before they
join a batch, and a batch the database still refuses is bisected down to the bad row.
Runs on whichever database the suite runs on (PostgreSQL and SQLite)."""

import asyncio
import datetime as dt
import itertools
import json

import pytest
from django.db import connection
from django.utils import timezone

from sofno.monitoring import fastpath
from sofno.monitoring.models import Device, DeviceStatus
from sofno.monitoring.tests.test_fastpath import auth, run

pytestmark = pytest.mark.django_db(transaction=True)

# Each kind of body PostgreSQL cannot store, and the field and rule its 4xx names.
BAD_BODIES = [
    (b'{"uptime": Infinity}', "uptime", "finite"),
    (b'{"uptime": -Infinity}', "uptime", "finite"),
    (b'{"disk_free": NaN}', "disk_free", "finite"),
    (b'{"disk_free": 1e400}', "disk_free", "finite"),
    (b'{"mood": NaN, "uptime": 5}', "body", "finite"),
    (b'{"uptime": 1e300}', "uptime", "le"),
    (b'{"hostname": "till\\u0000one"}', "hostname", "characters"),
    (b'{"os_version": "\\ud800"}', "os_version", "characters"),
    (b'{"hostname": "\\udfff till"}', "hostname", "characters"),
    (json.dumps({"agent_version": "9." * 30}).encode(), "agent_version", "max_length"),
    (json.dumps({"hostname": "h" * 201}).encode(), "hostname", "max_length"),
    (b"[" * 30_000, "body", "json_depth"),
    (b'{"uptime": "5"}', "uptime", "type"),
    (b'{"uptime": true}', "uptime", "type"),
    (b'"just text"', "body", "object_type"),
    (b'{"uptime": 5', "body", "json_invalid"),
    (b'{"hostname": "\xff\xfe"}', "body", "json_invalid"),
]


def _online(devices) -> None:
    now = timezone.now()
    Device.objects.filter(pk__in=[d.pk for d, _ in devices]).update(
        status=DeviceStatus.ONLINE, last_checkin_at=now, alert_after=now + dt.timedelta(hours=1)
    )


def test_it_stores_every_valid_checkin_of_a_batch_mixed_with_bad_bodies(make_device):
    devices = [make_device(f"Till {n}") for n in range(12)]
    _online(devices)
    valid = [
        # An unknown key is dropped, whatever it holds; it never reaches the write.
        (key, json.dumps({"uptime": n, "hostname": f"till-{n}", "mood": "\u0000"}).encode())
        for n, (_, key) in enumerate(devices)
    ] * 3
    bad = [(devices[n % len(devices)][1], body) for n, (body, *_) in enumerate(BAD_BODIES)]
    mixed = [item for pair in itertools.zip_longest(valid, bad) for item in pair if item]

    async def go(client):
        return await asyncio.gather(
            *(client.post("/api/v1/checkin", headers=auth(k), content=body) for k, body in mixed)
        )

    answers = dict(zip(range(len(mixed)), run(go), strict=True))
    for index, (_, body) in enumerate(mixed):
        answer = answers[index]
        expected = next((b for b in BAD_BODIES if b[0] == body), None)
        if expected is None:
            assert answer.status_code == 200, answer.content
            continue
        assert answer.status_code == 422, (body[:40], answer.content)
        error = answer.json()["errors"][0]
        assert (error["field"], error["rule"]) == expected[1:], body[:40]
        assert answer.json()["code"] == "validation_error"
    for n, (device, _) in enumerate(devices):
        device.refresh_from_db()
        assert device.checkins_seen == 3  # every valid check-in, and no bad one
        assert device.facts == {"uptime": n, "hostname": f"till-{n}"}
        history = list(device.checkins.values_list("facts", flat=True))
        assert history == [{"uptime": n, "hostname": f"till-{n}"}] * 3


def test_it_bisects_a_batch_the_database_refuses(make_device):
    if connection.vendor != "postgresql":
        pytest.skip("the batched statement is PostgreSQL's; SQLite writes row by row")
    devices = [make_device(f"Till {n}") for n in range(24)]
    _online(devices)
    # Facts that skipped the gate (as a future bug might let through): PostgreSQL's
    # jsonb refuses NUL, so the batch statement fails and must be split.
    raw_bad = {"hostname": "till\u0000"}

    async def go(_client):
        writer = fastpath._writer()
        writer.start()
        try:
            submissions = [
                writer.submit(d.key_hash, "203.0.113.9", {"uptime": n})
                for n, (d, _) in enumerate(devices)
            ]
            submissions.insert(11, writer.submit(devices[3][0].key_hash, None, raw_bad))
            return await asyncio.gather(*submissions)
        finally:
            await writer.aclose()

    answers = run(go)
    refused = answers.pop(11)
    assert refused.status == 422 and refused.body["errors"][0]["rule"] == "storable"
    assert [a.status for a in answers] == [200] * len(devices)
    for n, (device, _) in enumerate(devices):
        device.refresh_from_db()
        assert device.checkins_seen == 1 and device.facts == {"uptime": n}
        assert device.last_ip == "203.0.113.9"
