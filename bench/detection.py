"""Offline detection latency: from a device's deadline to its ``device.offline`` event.

Runs against the database named by ``SOFNO_DATABASE_URL``. Creates a throw-away
organization with N online devices (20 per customer) whose deadlines pass within
``--spread`` seconds, starts ``sofno worker`` processes (their offline sweeper), waits
until every device is offline, and measures ``event.recorded_at - deadline`` for each
``device.offline`` event. Each device's (site) incident is written in the same
transaction as its ``device.offline`` event, so the figure is also the time to the
incident opened (or joined).

Why a spread: a device's deadline is its last check-in plus interval plus grace, and
devices check in at different moments of their interval, so when every device goes
silent at once their deadlines still pass over one interval. The default, 60 s, is
all 10,000 devices on a one-minute interval failing together (~170 deadlines a
second). ``--spread 0`` puts every deadline on the same instant: what the sweeper
faces when the SOFNO server (or its worker) comes back after being down, every
deadline that passed meanwhile being due at once; it flips them in committed batches.

The machine's load average is printed with the figures: on a shared machine it
changes them a lot.

    SOFNO_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sofno python bench/detection.py

The last line is JSON: devices, p50_s, p99_s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Keep the other benchmarks' modules (bench/email.py) from shadowing the stdlib.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofno.settings")
DATA = tempfile.mkdtemp(prefix="sofno-bench-")
os.environ.setdefault("SOFNO_DATA_DIR", DATA)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument(
        "--lead", type=float, default=8.0, help="seconds from setup to the first deadline"
    )
    parser.add_argument(
        "--spread",
        type=float,
        default=60.0,
        help="the deadlines pass evenly over this many seconds",
    )
    parser.add_argument("--workers", type=int, default=1, help="sofno worker processes")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--keep", action="store_true", help="keep the bench organization")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import F

    from sofno.core.models import Organization, hash_secret
    from sofno.directory.models import Customer
    from sofno.events.models import Event
    from sofno.monitoring.actions import new_device_key
    from sofno.monitoring.models import Device, DeviceStatus, Incident, SweeperState

    call_command("migrate", verbosity=0)
    org = Organization.objects.create(slug=f"bench-{secrets.token_hex(4)}", name="Bench")
    customers = Customer.objects.bulk_create(
        Customer(organization=org, name=f"Customer {n}") for n in range(max(1, args.devices // 20))
    )
    # Start the workers first so their start-up is not part of the measurement.
    env = {
        **os.environ,
        "SOFNO_LOG_LEVEL": "WARNING",
        "SOFNO_QUEUE_URL": f"sqlite:///{Path(DATA) / 'queue.sqlite3'}",
    }
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from sofno.cli import main; main()",
                "worker",
                "--threads",
                "1",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(args.workers)
    ]
    try:
        # Wait until a sweeper has run: a worker still starting when the deadlines pass
        # would (rightly) see a server that was down and grant its start-up grace.
        started = dt.datetime.now(dt.UTC)
        ready = time.monotonic() + 120
        while not SweeperState.objects.filter(last_run_at__gte=started).exists():
            if time.monotonic() > ready:
                raise SystemExit("no sweeper ran within 120 s")
            time.sleep(0.2)
        now = dt.datetime.now(dt.UTC)
        first = now + dt.timedelta(seconds=args.lead)
        step = args.spread / max(1, args.devices - 1)
        Device.objects.bulk_create(
            (
                Device(
                    organization=org,
                    customer=customers[n % len(customers)],
                    name=f"Till {n}",
                    key_prefix="dk_bench",
                    key_hash=hash_secret(new_device_key()),
                    status=DeviceStatus.ONLINE,
                    last_checkin_at=now,
                    alert_after=first + dt.timedelta(seconds=n * step),
                )
                for n in range(args.devices)
            ),
            batch_size=2000,
        )
        print(
            f"{args.devices} devices, deadlines from {first:%H:%M:%S.%f} "
            f"over {args.spread}s, {args.workers} worker(s)"
        )
        deadline = time.monotonic() + args.lead + args.spread + args.timeout
        devices = Device.objects.filter(organization=org)
        while time.monotonic() < deadline:
            left = devices.filter(status=DeviceStatus.ONLINE).count()
            if not left:
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"{left} devices still online after the timeout")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)

    rows = (
        Event.objects.filter(organization=org, type="device.offline")
        .annotate(lag=F("recorded_at") - F("occurred_at"))
        .values_list("lag", flat=True)
    )
    lags = [lag.total_seconds() for lag in rows]
    offline = devices.filter(status=DeviceStatus.OFFLINE).count()
    out = {
        "devices": len(lags),
        "p50_s": round(percentile(lags, 0.50), 3),
        "p99_s": round(percentile(lags, 0.99), 3),
    }
    print(
        f"offline: {offline}, device.offline events: {len(lags)}, "
        f"max: {max(lags):.3f}s, incidents: {Incident.objects.filter(organization=org).count()}"
    )
    print(f"p50 {out['p50_s']}s, p99 {out['p99_s']}s (target p99 < 2 s)")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if not args.keep:
        org.delete()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
