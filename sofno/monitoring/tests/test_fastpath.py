"""The lean ASGI check-in route, called through ASGI with its real batch writer
(asyncpg on PostgreSQL, the writer thread on SQLite)."""

import asyncio
import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import time_machine

from sofno.asgi import django_application
from sofno.monitoring import commands
from sofno.monitoring.fastpath import FastPath
from sofno.monitoring.models import CheckIn, CommandKind, CommandTemplate, Device, DeviceStatus

pytestmark = pytest.mark.django_db(transaction=True)


def run(coroutine_fn):
    async def main():
        app = FastPath(django_application)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            try:
                return await coroutine_fn(c)
            finally:
                await app.aclose()

    # A thread of its own: the browser tests' Playwright keeps an event loop
    # running in the main thread for the whole session.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


def auth(key):
    return {"Authorization": f"Device {key}"}


def test_it_acknowledges_concurrent_checkins_only_once_stored(make_device):
    keys = [make_device(f"Till {n}")[1] for n in range(10)]

    async def go(client):
        first = await asyncio.gather(
            *(client.post("/api/v1/checkin", headers=auth(k)) for k in keys)
        )
        # Now online: these take the batched statement.
        again = await asyncio.gather(
            *(
                client.post("/api/v1/checkin", headers=auth(k), content=b'{"uptime": 5}')
                for k in keys * 5
            )
        )
        return first, again

    first, again = run(go)
    answers = first + again
    assert [a.status_code for a in answers] == [200] * 60
    assert CheckIn.objects.count() == 60
    assert set(Device.objects.values_list("status", flat=True)) == {DeviceStatus.ONLINE}
    device = Device.objects.get(name="Till 3")
    assert device.facts["uptime"] == 5
    assert device.last_ip == "203.0.113.7"
    body = answers[-1].json()
    assert body["next_checkin_in"] == 300 and body["commands"] == []
    last = Device.objects.get(public_id=body["device"])
    assert body["deadline"] == last.alert_after.isoformat()
    assert {a.json()["device"] for a in again} == {str(d.public_id) for d in Device.objects.all()}


def test_it_answers_the_error_statuses(make_device, customer):
    _, key = make_device()
    _inactive, inactive_key = make_device("Old till", active=False)

    async def go(client):
        return {
            "unknown": await client.post("/api/v1/checkin", headers=auth("dk_nope")),
            "no_auth": await client.post("/api/v1/checkin"),
            "inactive": await client.get(f"/ping/{inactive_key}"),
            "too_large": await client.post(
                "/api/v1/checkin", headers=auth(key), content=b"x" * 70_000
            ),
            "bad": await client.post(
                "/api/v1/checkin", headers=auth(key), content=b'{"uptime":"x"}'
            ),
            "method": await client.get("/api/v1/checkin"),
            "ping_method": await client.delete(f"/ping/{key}"),
            "head": await client.head(f"/ping/{key}"),
            "django": await client.get("/api/openapi.json"),
        }

    got = run(go)
    assert got["unknown"].status_code == 401
    assert got["no_auth"].status_code == 401
    assert got["inactive"].status_code == 403
    assert got["inactive"].json()["message"] == customer.refusal_message
    assert got["too_large"].status_code == 413
    assert got["bad"].status_code == 422
    assert got["bad"].json()["errors"][0]["field"] == "uptime"
    assert got["method"].status_code == 405
    assert got["ping_method"].status_code == 405
    assert got["head"].status_code == 200 and got["head"].content == b""
    assert "/api/v1/checkin" in got["django"].json()["paths"]  # passed on to Django
    assert CheckIn.objects.count() == 1  # only the HEAD ping was stored


def test_it_rate_limits_one_device(make_device):
    device, key = make_device()

    async def go(client):
        return [(await client.get(f"/ping/{key}")).status_code for _ in range(62)]

    # Early in a minute: core's fixed window must not roll over mid-test.
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 30, 1, tzinfo=dt.UTC)):
        statuses = run(go)
    assert statuses.count(200) == 60 and statuses[-1] == 429
    device.refresh_from_db()
    assert device.checkins_seen == 60
    assert CheckIn.objects.count() == 20  # the history ring


def test_it_hands_out_pending_commands(make_device, owner_actor):
    device, key = make_device()
    template = CommandTemplate.objects.create(
        organization=device.organization,
        name="Spooler",
        kind=CommandKind.RESTART_SERVICE,
        argument="spooler",
    )

    async def first(client):
        return await client.post("/api/v1/checkin", headers=auth(key))

    assert run(first).status_code == 200
    command = commands.issue_command(acting_user=owner_actor, device=device, template=template)

    async def second(client):
        return [await client.post("/api/v1/checkin", headers=auth(key)) for _ in range(2)]

    with_command, without = run(second)
    sent = with_command.json()["commands"]
    assert len(sent) == 1
    assert json.loads(sent[0]["payload"])["id"] == str(command.public_id)
    assert without.json()["commands"] == []
    assert CheckIn.objects.filter(device=device).count() == 3


@pytest.mark.parametrize(
    ("trusted", "recorded"),
    [([], "203.0.113.7"), (["203.0.113.0/24"], "198.51.100.9")],
)
def test_it_believes_forwarded_addresses_only_from_trusted_proxies(
    make_device, settings, trusted, recorded
):
    settings.TRUSTED_PROXIES = trusted
    _, key = make_device("Till behind a proxy")
    headers = {**auth(key), "X-Forwarded-For": "198.51.100.9"}

    async def go(client):
        await client.post("/api/v1/checkin", headers=headers)  # first: the slow path
        return await client.post("/api/v1/checkin", headers=headers)  # then batched

    assert run(go).status_code == 200
    assert Device.objects.get(name="Till behind a proxy").last_ip == recorded
    assert set(CheckIn.objects.values_list("ip", flat=True)) == {recorded}
