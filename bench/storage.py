"""Storage over a week: database size per device, and check-in latency while pruning.

Simulates a fleet checking in every ``--interval`` seconds through the real batched
write path (``fastpath.PostgresWriter``'s statement, driven directly in bulk batches
with a simulated clock, far faster than real time), plus a week of what outages leave
behind (offline periods, incidents and their timelines, events, deliveries and
attempts), and as much again past every retention for the prunes to remove. Then it
runs the prunes while check-ins arrive at the fleet's real rate and reports the
check-in latency meanwhile. PostgreSQL only (``SOFNO_DATABASE_URL``).

The history ring reaches its steady size after ``SOFNO_CHECKIN_HISTORY`` check-ins per
device; the simulation runs twice that many rounds (the rest of the week only
overwrites slots, which ``--rounds`` can show). On a tree whose history is a row per
check-in (before the ring) it simulates ``--legacy-hours`` of check-ins and scales the
history to the week, and its prune is the old age ``DELETE`` of that history.

    SOFNO_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sofno python bench/storage.py \
        --devices 100000

The last line is JSON: bytes_per_device, checkin_table_bytes, prune_p99_ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/email.py would shadow the standard library's ``email``.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofno.settings")
os.environ.setdefault("SOFNO_DATA_DIR", tempfile.mkdtemp(prefix="sofno-bench-"))

TABLES = [
    "monitoring_device",
    "monitoring_checkin",
    "monitoring_offlineperiod",
    "monitoring_incident",
    "monitoring_incidententry",
    "events_event",
    "notify_delivery",
    "notify_attempt",
]
WEEK = dt.timedelta(days=7)


def create_fleet(count: int):
    """A throw-away organization with ``count`` online devices."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from sofno.core.models import Organization
    from sofno.directory.models import Customer
    from sofno.monitoring.models import Device, DeviceStatus

    call_command("migrate", verbosity=0)
    org = Organization.objects.create(slug=f"bench-{secrets.token_hex(4)}", name="Bench")
    customers = Customer.objects.bulk_create(
        Customer(organization=org, name=f"Customer {n}") for n in range(max(1, count // 20))
    )
    now = timezone.now()
    devices = Device.objects.bulk_create(
        (
            Device(
                organization=org,
                customer=customers[n % len(customers)],
                name=f"Till {n}",
                key_prefix=f"dk_{n}"[:10],
                key_hash=secrets.token_hex(32),
                status=DeviceStatus.ONLINE,
                last_checkin_at=now,
                alert_after=now + dt.timedelta(hours=6),
                effective_interval=60,
                effective_grace=60,
            )
            for n in range(count)
        ),
        batch_size=5000,
    )
    return org, devices


def facts(n: int, moment: dt.datetime) -> dict:
    return {"uptime": int(moment.timestamp()) % 864000, "disk_free": 10**9 + n}


async def write_rounds(writer, conn, devices, moments: list[dt.datetime]) -> float:
    """Every device checks in once at each of ``moments``, through the batch statement.

    After each round the written tables are vacuumed: the work autovacuum does in the
    minute between two real rounds, which this compressed week leaves it no time for.
    """
    import time_machine

    loop = asyncio.get_running_loop()
    written, busy = 0, 0.0
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            for first in range(0, len(devices), writer.batch_max):
                chunk = devices[first : first + writer.batch_max]
                batch = [
                    (
                        d.key_hash,
                        f"10.{n % 250}.{n // 250 % 250}.7",
                        facts(n, moment),
                        loop.create_future(),
                    )
                    for n, d in enumerate(chunk, first)
                ]
                started = time.monotonic()
                await writer._write(conn, batch)
                busy += time.monotonic() - started
                written += len(batch)
        await conn.execute("VACUUM monitoring_device, monitoring_checkin")
    return written / busy


def seed_outages(org, devices, per_device_week: float, end: dt.datetime) -> None:
    """A week of outage leftovers ending at ``end``, and as much again 100 days older."""
    from sofno.core.channels import Channel
    from sofno.events.models import Event
    from sofno.monitoring.models import (
        Incident,
        IncidentEntry,
        IncidentStatus,
        OfflinePeriod,
        TimelineKind,
    )
    from sofno.notify.models import Attempt, Delivery, DeliveryStatus

    outages = int(len(devices) * per_device_week)
    sequence = 0
    for age in (dt.timedelta(0), dt.timedelta(days=100)):
        for first in range(0, outages, 5000):
            picked = [
                devices[(first + n) * 7919 % len(devices)]
                for n in range(min(5000, outages - first))
            ]
            starts = [
                end - age - WEEK * ((first + n) / max(1, outages)) for n in range(len(picked))
            ]
            OfflinePeriod.objects.bulk_create(
                OfflinePeriod(
                    organization=org, device=d, started_at=s, ended_at=s + dt.timedelta(minutes=20)
                )
                for d, s in zip(picked, starts, strict=True)
            )
            incidents = Incident.objects.bulk_create(
                Incident(
                    organization=org,
                    device=d,
                    customer_id=d.customer_id,
                    status=IncidentStatus.RESOLVED,
                    title=f"{d.name} is offline",
                    opened_at=s,
                    resolved_at=s + dt.timedelta(minutes=20),
                    auto_resolved=True,
                    alerted_at=s,
                )
                for d, s in zip(picked, starts, strict=True)
            )
            IncidentEntry.objects.bulk_create(
                IncidentEntry(incident=i, at=i.opened_at, kind=kind, message=message)
                for i in incidents
                for kind, message in (
                    (TimelineKind.OPENED, "No check-in since the deadline."),
                    (TimelineKind.ALERT, "Alert sent to the technicians."),
                    (TimelineKind.RECOVERED, "Checked in again."),
                )
            )
            events = []
            for d, s in zip(picked, starts, strict=True):
                for kind in (
                    "device.offline",
                    "incident.opened",
                    "device.online",
                    "incident.resolved",
                ):
                    sequence += 1
                    events.append(
                        Event(
                            organization=org,
                            sequence=sequence,
                            type=kind,
                            subject=f"device:{d.public_id}",
                            payload={
                                "device": str(d.public_id),
                                "name": d.name,
                                "customer": "Customer",
                            },
                            occurred_at=s,
                            recorded_at=s,
                        )
                    )
            events = Event.objects.bulk_create(events)
            deliveries = Delivery.objects.bulk_create(
                Delivery(
                    organization=org,
                    event=e,
                    channel=channel,
                    address="tech@example.com",
                    sequence=e.sequence,
                    status=DeliveryStatus.SUCCEEDED,
                    attempt_count=1,
                    created_at=e.recorded_at,
                    finished_at=e.recorded_at,
                )
                for e in events
                for channel in (Channel.EMAIL, Channel.INAPP)
            )
            Attempt.objects.bulk_create(
                Attempt(
                    delivery=x,
                    number=1,
                    started_at=x.created_at,
                    duration_ms=120,
                    ok=True,
                    status_code=250,
                    detail="250 OK",
                )
                for x in deliveries
            )


def sizes() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # settled sizes, as autovacuum would leave them
        found = {}
        for table in TABLES:
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            found[table] = cursor.fetchone()[0]
    return found


def prune_everything(legacy: bool, end: dt.datetime, legacy_cutoff: dt.datetime | None) -> int:
    from sofno.events import retention as events_retention
    from sofno.notify.delivery import retention as notify_retention

    deleted = 0
    if legacy:
        from sofno.monitoring.models import CheckIn

        deleted += CheckIn.objects.filter(at__lt=legacy_cutoff).delete()[0]
    else:
        from sofno.monitoring import retention as monitoring_retention

        deleted += monitoring_retention.prune(now=end + dt.timedelta(days=400))
    deleted += notify_retention.prune(now=end)
    deleted += events_retention.prune(now=end)
    return deleted


def start_prune(legacy: bool, end: dt.datetime, legacy_cutoff: dt.datetime | None):
    """The prunes in a process of their own, as in a deployment (``sofno worker``)."""
    import subprocess

    command = [sys.executable, __file__, "--prune-only", end.isoformat()]
    if legacy:
        command += ["--legacy-cutoff", legacy_cutoff.isoformat()]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


async def latencies_during(writer, devices, rate: float, seconds: float, prune=None):
    """Each check-in's milliseconds at ``rate`` per second through the writer, for
    ``seconds`` or until the ``prune`` process ends (whichever is later)."""
    latencies: list[float] = []

    async def one(device) -> None:
        started = time.monotonic()
        answer = await writer.submit(device.key_hash, "10.0.0.7", {"uptime": 1})
        if answer.status == 200:
            latencies.append((time.monotonic() - started) * 1000)

    started, sent, tasks = time.monotonic(), 0, []
    while time.monotonic() - started < seconds or (prune and prune.poll() is None):
        due = int((time.monotonic() - started) * rate)
        while sent < due:
            tasks.append(asyncio.create_task(one(devices[sent % len(devices)])))
            sent += 1
        await asyncio.sleep(0.005)
    await asyncio.gather(*tasks)
    return sorted(latencies)


def remove_organization(org) -> None:
    """Delete the bench organization: its big tables first in plain SQL (``Model.delete``
    would load every one of millions of rows to cascade), then the rest the usual way."""
    from django.db import connection

    by_device = "device_id IN (SELECT id FROM monitoring_device WHERE organization_id = %s)"
    statements = [
        "DELETE FROM notify_attempt WHERE delivery_id IN "
        "(SELECT id FROM notify_delivery WHERE organization_id = %s)",
        "DELETE FROM notify_delivery WHERE organization_id = %s",
        "DELETE FROM monitoring_incidententry WHERE incident_id IN "
        "(SELECT id FROM monitoring_incident WHERE organization_id = %s)",
        "DELETE FROM monitoring_incident WHERE organization_id = %s",
        "DELETE FROM monitoring_offlineperiod WHERE organization_id = %s",
        f"DELETE FROM monitoring_checkin WHERE {by_device}",
        "DELETE FROM events_event WHERE organization_id = %s",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, [org.pk])
    org.delete()


def percentile(values: list[float], share: float) -> float:
    return values[max(0, int(len(values) * share) - 1)] if values else float("nan")


def prune_only(end: str, legacy_cutoff: str | None) -> None:
    import django

    django.setup()
    started = time.monotonic()
    cutoff = dt.datetime.fromisoformat(legacy_cutoff) if legacy_cutoff else None
    deleted = prune_everything(bool(cutoff), dt.datetime.fromisoformat(end), cutoff)
    print(json.dumps({"deleted": deleted, "seconds": time.monotonic() - started}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--interval", type=int, default=60, help="seconds between check-ins")
    parser.add_argument("--rounds", type=int, help="check-in rounds (default: twice the ring)")
    parser.add_argument("--outages", type=float, default=0.5, help="per device and week")
    parser.add_argument("--legacy-hours", type=float, default=2.0)
    parser.add_argument("--keep", action="store_true", help="keep the bench organization")
    parser.add_argument("--prune-only", help=argparse.SUPPRESS)
    parser.add_argument("--legacy-cutoff", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prune_only:
        return prune_only(args.prune_only, args.legacy_cutoff)

    started = time.monotonic()
    org, devices = create_fleet(args.devices)
    from django.db import connection
    from django.utils import timezone

    from sofno.monitoring import fastpath
    from sofno.monitoring.models import CheckIn

    if connection.vendor != "postgresql":
        raise SystemExit("bench/storage.py measures PostgreSQL; set SOFNO_DATABASE_URL")
    legacy = not hasattr(CheckIn, "slot")
    print(
        f"created {len(devices)} devices in {time.monotonic() - started:.1f}s"
        f"{' (legacy history: a row per check-in)' if legacy else ''}"
    )
    end = timezone.now().replace(microsecond=0)
    step = dt.timedelta(seconds=args.interval)
    if legacy:
        rounds = int(args.legacy_hours * 3600 / args.interval)
    else:
        from sofno.monitoring import checkin_rules

        rounds = args.rounds or 2 * checkin_rules.history_size()
    moments = [end - step * (rounds - r) for r in range(rounds)]
    before = sizes()
    writer = fastpath._writer()

    async def simulate():
        import asyncpg

        conn = await asyncpg.connect(**writer.connect_kwargs)
        try:
            return await write_rounds(writer, conn, devices, moments)
        finally:
            await conn.close()

    started = time.monotonic()
    per_second = asyncio.run(simulate())
    print(
        f"{rounds} rounds of {len(devices)} check-ins through the batch statement: "
        f"{time.monotonic() - started:.0f}s, {per_second:.0f} check-ins/s"
    )
    seed_outages(org, devices, args.outages, end)
    # Only this organization's growth counts (other rows in the database are noise,
    # measured before and subtracted).
    after = {t: max(0, s - before[t]) for t, s in sizes().items()}
    if legacy:  # a row per check-in: the week holds (week / simulated span) times as much
        after["monitoring_checkin"] = int(after["monitoring_checkin"] * WEEK / (step * rounds))
    for table, size in after.items():
        print(f"{table:28} {size / 1e6:10.1f} MB  {size / len(devices):9.0f} B/device")
    total = sum(after.values())
    print(f"{'total':28} {total / 1e6:10.1f} MB  {total / len(devices):9.0f} B/device")

    legacy_cutoff = moments[len(moments) // 2] if legacy else None
    rate = len(devices) / args.interval

    async def measure():
        found = fastpath._writer()
        found.start()
        try:
            quiet = await latencies_during(found, devices, rate, 5.0)
            prune = start_prune(legacy, end, legacy_cutoff)
            busy = await latencies_during(found, devices, rate, 5.0, prune)
            return quiet, busy, json.loads(prune.communicate()[0].strip().splitlines()[-1])
        finally:
            await found.aclose()

    quiet, busy, pruned = asyncio.run(measure())
    p99 = percentile(busy, 0.99)
    print(
        f"check-ins at {rate:.0f}/s: without a prune p50 {percentile(quiet, 0.5):.1f} ms, "
        f"p99 {percentile(quiet, 0.99):.1f} ms; while pruning {pruned['deleted']} rows "
        f"({pruned['seconds']:.1f}s, another process) p50 {percentile(busy, 0.5):.1f} ms, "
        f"p99 {p99:.1f} ms, max {busy[-1] if busy else 0:.1f} ms"
    )
    if not args.keep:
        remove_organization(org)
    print(
        json.dumps(
            {
                "bytes_per_device": round(total / len(devices)),
                "checkin_table_bytes": after["monitoring_checkin"],
                "checkin_bytes_per_device": round(after["monitoring_checkin"] / len(devices)),
                "prune_p99_ms": round(p99, 2),
                "devices": len(devices),
                "legacy": legacy,
            }
        )
    )


if __name__ == "__main__":
    main()
