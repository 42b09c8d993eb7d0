"""Devices coming back online in batches: the same outcome as one by one, through the
fast path without its slow path, and once each under racing server processes."""

import asyncio
import contextlib
import datetime as dt
import threading
import time

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import translation

from sofno.core.models import hash_secret
from sofno.directory.models import Customer
from sofno.events.models import Event
from sofno.monitoring import checkin, fastpath
from sofno.monitoring.models import (
    CheckIn,
    Device,
    DeviceStatus,
    Incident,
    IncidentEntry,
    IncidentStatus,
    OfflinePeriod,
    SiteMember,
)
from sofno.monitoring.sweeper import tick
from sofno.monitoring.tests.test_fastpath import auth, run

MONDAY_10 = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)


def at(moment):
    return time_machine.travel(moment, tick=False)


def seconds(n):
    return MONDAY_10 + dt.timedelta(seconds=n)


def types(after=0):
    return list(
        Event.objects.filter(sequence__gt=after).order_by("sequence").values_list("type", flat=True)
    )


def last_sequence():
    return Event.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


@pytest.fixture
def outage(cast, make_device):
    """Café Central's four tills (one site incident) and a lone till of Bar Luna (its
    own incident), all silent since MONDAY_10; returns ``(tills, lone)``."""
    cafe = Customer.objects.create(organization=cast.org, name="Café Central")
    bar = Customer.objects.create(organization=cast.org, name="Bar Luna")
    devices = []
    for n, customer in [(1, cafe), (2, cafe), (3, cafe), (4, cafe), (1, bar), (2, bar)]:
        device, key = make_device(f"Till {n}", customer=customer, checkin_interval=60, grace=30)
        device.key = key
        devices.append(device)
    tills, lone, other = devices[:4], devices[4], devices[5]
    with at(MONDAY_10):
        for device in devices:
            checkin.handle(device.key, None, None)
    with at(seconds(80)):
        checkin.handle(other.key, None, None)  # Bar Luna's other till keeps checking in
    with at(seconds(91)):
        assert tick() == 5
    assert Incident.objects.get(kind="site").devices_down == 4
    assert Incident.objects.get(device=lone).status == IncidentStatus.OPEN
    return tills, lone


def outcome():
    """Everything a recovery writes, without the ids that differ between two runs."""
    return {
        "events": list(
            Event.objects.order_by("sequence").values_list(
                "sequence", "type", "subject", "payload", "occurred_at"
            )
        ),
        "timeline": list(
            IncidentEntry.objects.order_by("incident_id", "id").values_list(
                "incident_id", "at", "kind", "message", "params", "actor_label"
            )
        ),
        "incidents": list(
            Incident.objects.order_by("id").values_list(
                "id", "status", "resolved_at", "auto_resolved", "devices_down", "title"
            )
        ),
        "devices": list(
            Device.objects.order_by("id").values_list(
                "id", "status", "status_changed_at", "last_checkin_at", "alert_after"
            )
        ),
        "periods": list(
            OfflinePeriod.objects.order_by("id").values_list("device_id", "started_at", "ended_at")
        ),
        "members": list(
            SiteMember.objects.order_by("id").values_list("incident_id", "device_id", "back_at")
        ),
        "history": sorted(CheckIn.objects.values_list("device_id", "seq", "at")),
    }


def one_by_one_then_batched(keys):
    """The outcome of ``keys`` checking in one by one (each a batch of one, rolled
    back), then checks them in as one batch and returns both outcomes."""
    with transaction.atomic():
        for key in keys:
            assert checkin.handle(key, None, None).status == 200
        alone = outcome()
        transaction.set_rollback(True)
    answers = checkin.handle_many([(hash_secret(k), None, None) for k in keys])
    assert [a.status for a in answers] == [200] * len(keys)
    return alone, outcome()


@pytest.mark.django_db
def test_it_brings_a_batch_back_as_one_by_one_would(outage):
    tills, lone = outage
    site = Incident.objects.get(kind="site")
    own = Incident.objects.get(device=lone)
    before = last_sequence()
    # Two of four tills and the lone till back together: partial recovery.
    with at(seconds(200)):
        alone, batched = one_by_one_then_batched([tills[2].key, lone.key, tills[0].key])
    assert batched == alone
    assert types(before) == [
        "device.online",
        "site.device_up",
        "device.online",
        "incident.resolved",
        "device.online",
        "site.device_up",
    ]
    site.refresh_from_db()
    own.refresh_from_db()
    assert site.status == IncidentStatus.OPEN and site.devices_down == 2
    assert site.title == "Café Central is down (2 of 4 computers offline)"
    assert own.status == IncidentStatus.RESOLVED and own.auto_resolved
    ups = Event.objects.filter(type="site.device_up").order_by("sequence")
    assert [(e.payload["device_name"], e.payload["devices_down"]) for e in ups] == [
        ("Till 3", 3),
        ("Till 1", 2),
    ]
    assert ups[0].payload["device_names"] == "Till 1, Till 2, Till 4"
    assert ups[1].payload["device_names"] == "Till 2, Till 4"
    online = Event.objects.filter(type="device.online", subject=f"device:{lone.public_id}")
    assert online.latest("sequence").payload["previous"] == DeviceStatus.OFFLINE
    # The other two back: the site resolves, with its events last.
    before = last_sequence()
    with at(seconds(230)):
        alone, batched = one_by_one_then_batched([tills[3].key, tills[1].key])
    assert batched == alone
    assert types(before) == [
        "device.online",
        "site.device_up",
        "device.online",
        "site.up",
        "incident.resolved",
    ]
    site.refresh_from_db()
    assert site.status == IncidentStatus.RESOLVED and site.auto_resolved
    assert site.devices_down == 0 and site.resolved_at == seconds(230)
    kinds = list(site.timeline.values_list("kind", flat=True))
    assert kinds.count("device_up") == 3 and kinds[-2:] == ["recovered", "resolved"]
    with translation.override("es"):
        said = [e.text for e in site.timeline.filter(kind__in=["device_up", "recovered"])]
    assert said == [
        "Till 3 ha vuelto (3 de 4 siguen desconectados).",
        "Till 1 ha vuelto (2 de 4 siguen desconectados).",
        "Till 4 ha vuelto (1 de 4 siguen desconectados).",
        "Till 2 ha vuelto: todos los equipos vuelven a estar en línea.",
    ]
    assert not OfflinePeriod.objects.filter(ended_at__isnull=True).exists()
    assert set(Device.objects.values_list("status", flat=True)) == {DeviceStatus.ONLINE}


@pytest.mark.django_db
def test_it_answers_unknown_and_refused_keys_in_a_recovery_batch(outage, owner_actor):
    from sofno.monitoring import actions

    tills, lone = outage
    actions.update_device(acting_user=owner_actor, device=lone, fields={"active": False})
    answers = checkin.recover_many(
        [hash_secret("dk_nope"), hash_secret(lone.key), hash_secret(tills[0].key)]
    )
    assert answers[hash_secret("dk_nope")].status == 401
    assert answers[hash_secret(lone.key)].status == 403
    assert hash_secret(tills[0].key) not in answers  # back online: store it as usual
    assert Device.objects.get(pk=tills[0].pk).status == DeviceStatus.ONLINE
    assert Device.objects.get(pk=lone.pk).status == DeviceStatus.PAUSED


@pytest.mark.django_db(transaction=True)
def test_it_brings_devices_back_through_the_fast_path_without_the_slow_path(
    cast, make_device, monkeypatch
):
    customer = Customer.objects.create(organization=cast.org, name="Café Central")
    devices = [
        make_device(f"Till {n}", customer=customer, checkin_interval=60, grace=30)
        for n in range(1, 5)
    ]
    lone, lone_key = make_device("Lone till", checkin_interval=60, grace=30)
    keys = [key for _device, key in devices]
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    with at(long_ago):
        for key in [*keys, lone_key]:
            checkin.handle(key, None, None)
    tick()  # every deadline has passed
    site = Incident.objects.get(kind="site")
    assert Incident.objects.get(device=lone).is_open
    slow = []
    real = fastpath._in_thread
    monkeypatch.setattr(fastpath, "_in_thread", lambda *a: (slow.append(a), real(*a)))

    def back(keys):
        async def go(client):
            return await asyncio.gather(
                *(
                    client.post("/api/v1/checkin", headers=auth(k), content=b'{"uptime": 7}')
                    for k in keys
                )
            )

        return go

    first = run(back([keys[0], keys[1], lone_key]))
    assert [a.status_code for a in first] == [200] * 3
    site.refresh_from_db()
    assert (site.status, site.devices_down) == (IncidentStatus.OPEN, 2)
    assert Incident.objects.get(device=lone).status == IncidentStatus.RESOLVED
    second = run(back(keys[2:]))
    assert [a.status_code for a in second] == [200] * 2
    site.refresh_from_db()
    assert site.status == IncidentStatus.RESOLVED and site.auto_resolved
    assert not slow  # returning devices never took the slow path
    assert set(Device.objects.values_list("status", flat=True)) == {DeviceStatus.ONLINE}
    assert types().count("device.online") == 10  # five first check-ins, five returns
    assert types()[-2:] == ["site.up", "incident.resolved"]
    # Each check-in stored once, its facts too; the answers carry the new deadline.
    for answer in first + second:
        device = Device.objects.get(public_id=answer.json()["device"])
        assert device.checkins_seen == 2 and device.facts["uptime"] == 7
        assert answer.json()["deadline"] == device.alert_after.isoformat()
    assert CheckIn.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_it_brings_each_device_back_once_with_racing_processes(cast, make_device):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers itself; SKIP LOCKED is PostgreSQL's")
    cafe = Customer.objects.create(organization=cast.org, name="Café Central")
    tills = [make_device(f"Till {n}", customer=cafe)[1] for n in range(40)]
    lone = []
    for n in range(20):
        customer = Customer.objects.create(organization=cast.org, name=f"Bar {n}")
        lone.append(make_device("Till", customer=customer)[1])
        make_device("Other", customer=customer)  # never checks in: stays new
    keys = tills + lone
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with at(long_ago):
        for key in keys:
            checkin.handle(key, None, None)
    tick()
    assert Incident.objects.filter(kind="site", status=IncidentStatus.OPEN).count() == 1
    assert Incident.objects.filter(kind="device", status=IncidentStatus.OPEN).count() == 20
    before = last_sequence()
    hashes = [hash_secret(k) for k in keys]
    start = threading.Barrier(2)

    def server(order):
        from django.db import connections

        start.wait()
        try:
            for n in range(0, len(order), 7):  # small batches: many chances to meet
                checkin.recover_many(order[n : n + 7])
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=server, args=(hashes,)),
        threading.Thread(target=server, args=(hashes[::-1],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    back = types(before)
    assert back.count("device.online") == 60
    assert back.count("site.device_up") == 39
    assert back.count("site.up") == 1
    assert back.count("incident.resolved") == 21
    assert not Incident.objects.filter(status__in=["open", "acknowledged"]).exists()
    assert not OfflinePeriod.objects.filter(ended_at__isnull=True).exists()
    site = Incident.objects.get(kind="site")
    assert site.devices_down == 0 and site.timeline.filter(kind="device_up").count() == 39
    assert Device.objects.filter(status=DeviceStatus.ONLINE).count() == 60


@pytest.mark.django_db
def test_the_sweeper_brings_back_a_device_whose_stored_check_in_was_left_behind(outage):
    tills, lone = outage
    # The fast path stored the lone till's check-in, then its process stopped before
    # bringing the device back: a stored check-in newer than the device's status.
    Device.objects.filter(pk=lone.pk).update(
        last_checkin_at=seconds(200), alert_after=seconds(290), checkins_seen=2
    )
    before = last_sequence()
    with at(seconds(201)):
        tick()
    lone.refresh_from_db()
    assert lone.status == DeviceStatus.ONLINE and lone.status_changed_at == seconds(201)
    # It keeps the check-in and deadline it stored.
    assert (lone.last_checkin_at, lone.alert_after) == (seconds(200), seconds(290))
    about_lone = Event.objects.filter(sequence__gt=before, subject=f"device:{lone.public_id}")
    assert list(about_lone.order_by("sequence").values_list("type", flat=True)) == [
        "device.online",
        "incident.resolved",
    ]
    assert Incident.objects.get(device=lone).status == IncidentStatus.RESOLVED
    # The tills checked in before they went offline: nothing to bring back.
    assert set(
        Device.objects.filter(pk__in=[t.pk for t in tills]).values_list("status", flat=True)
    ) == {DeviceStatus.OFFLINE}


def went_silent(*keys):
    """Devices that checked in ten minutes ago, then went offline (each its own
    incident when alone at its customer)."""
    with at(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)):
        for key in keys:
            checkin.handle(key, None, None)
    tick()


@contextlib.contextmanager
def event_log_held(org):
    """Hold ``org``'s event counter row in another connection until the block ends
    (or the yielded event is set): a recovery reaching its events then keeps its
    transaction open."""
    from django.db import connections

    from sofno.events.models import EventCounter

    held, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                EventCounter.objects.select_for_update().get(organization=org)
                held.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    try:
        yield release
    finally:
        release.set()
        holder.join()


def wait_until_a_recovery_waits():
    """Until a transaction of this database waits for a lock: the recovery, at its
    events (the held counter is the only lock it can meet here)."""
    from django.db import connections

    for _ in range(100):
        with connections["default"].cursor() as cursor:
            cursor.execute(
                """SELECT count(*) FROM pg_stat_activity
                   WHERE datname = current_database() AND wait_event_type = 'Lock'"""
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("the recovery never reached its events")


@pytest.mark.django_db(transaction=True)
def test_a_returning_devices_check_in_is_answered_without_waiting_for_its_recovery(
    cast, make_device
):
    if connection.vendor != "postgresql":
        pytest.skip("the fast path's batched statement is PostgreSQL's")
    device, key = make_device("Till", checkin_interval=60, grace=30)
    went_silent(key)
    assert Incident.objects.get(device=device).is_open

    async def go(client):
        with event_log_held(cast.org):
            answer = await client.post("/api/v1/checkin", headers=auth(key), content=b"{}")
            stored = await asyncio.to_thread(
                lambda: Device.objects.values_list("status", "checkins_seen").get(pk=device.pk)
            )
        return answer, stored

    answer, (status_then, seen_then) = run(go)
    assert answer.status_code == 200
    assert (status_then, seen_then) == (DeviceStatus.OFFLINE, 2)  # stored, not yet back
    device.refresh_from_db()
    assert device.status == DeviceStatus.ONLINE
    assert answer.json()["deadline"] == device.alert_after.isoformat()
    assert Incident.objects.get(device=device).status == IncidentStatus.RESOLVED


@pytest.mark.django_db(transaction=True)
def test_a_returning_devices_next_check_in_is_stored_while_its_recovery_is_open(cast, make_device):
    """The recovery writes the device's row last: until then the batched statement
    stores the device's further check-ins without waiting for it."""
    if connection.vendor != "postgresql":
        pytest.skip("the fast path's batched statement is PostgreSQL's")
    device, key = make_device("Till", checkin_interval=60, grace=30)
    went_silent(key)
    before = last_sequence()

    async def go(client):
        with event_log_held(cast.org):
            first = await client.post("/api/v1/checkin", headers=auth(key), content=b"{}")
            await asyncio.to_thread(wait_until_a_recovery_waits)
            # The old claim locked the row first: this waited for the release.
            second = await asyncio.wait_for(
                client.post("/api/v1/checkin", headers=auth(key), content=b"{}"), 5
            )
            stored = await asyncio.to_thread(
                lambda: Device.objects.values_list("status", "checkins_seen").get(pk=device.pk)
            )
        return first, second, stored

    first, second, stored = run(go)
    assert (first.status_code, second.status_code) == (200, 200)
    assert stored == (DeviceStatus.OFFLINE, 3)  # both stored, the device not yet back
    device.refresh_from_db()
    assert device.status == DeviceStatus.ONLINE and device.checkins_seen == 3
    assert Incident.objects.get(device=device).status == IncidentStatus.RESOLVED
    assert types(before) == ["device.online", "incident.resolved"]


@pytest.mark.django_db(transaction=True)
def test_a_recovery_leaves_alone_a_device_paused_while_it_was_open(cast, make_device):
    """A device whose status changes between the recovery's read and its write (paused
    meanwhile) is not brought back: the batch runs again, and the other devices of
    the batch come back as usual."""
    if connection.vendor != "postgresql":
        pytest.skip("the late write of the device's row is PostgreSQL's")
    from django.db import connections

    # At two customers: each its own device incident.
    customers = [Customer.objects.create(organization=cast.org, name=n) for n in ("Bar", "Café")]
    paused, paused_key = make_device("Till", customer=customers[0], checkin_interval=60, grace=30)
    other, other_key = make_device("Till", customer=customers[1], checkin_interval=60, grace=30)
    went_silent(paused_key, other_key)
    before = last_sequence()
    answers = {}

    def recover():
        try:
            answers.update(checkin.recover_many([hash_secret(paused_key), hash_secret(other_key)]))
        finally:
            connections.close_all()

    recovery = threading.Thread(target=recover)
    with event_log_held(cast.org):
        recovery.start()
        wait_until_a_recovery_waits()
        # Paused (as deactivating does) by another transaction, committed meanwhile.
        Device.objects.filter(pk=paused.pk).update(active=False, status=DeviceStatus.PAUSED)
    recovery.join(30)
    assert answers[hash_secret(paused_key)].status == 403  # refused: inactive now
    paused.refresh_from_db()
    other.refresh_from_db()
    assert (paused.status, other.status) == (DeviceStatus.PAUSED, DeviceStatus.ONLINE)
    back = Event.objects.filter(sequence__gt=before, type="device.online")
    assert list(back.values_list("subject", flat=True)) == [f"device:{other.public_id}"]
    assert Incident.objects.get(device=other).status == IncidentStatus.RESOLVED
    assert Incident.objects.get(device=paused).is_open
