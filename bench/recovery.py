"""Mass recovery: 10,000 offline devices check in again, ``sofno serve`` processes,
load from wrk.

Runs against the database named by ``SOFNO_DATABASE_URL`` (PostgreSQL for the real
figure). Creates a throw-away organization whose N devices all went silent: half of
them in customers of 20 computers (one site incident each), half alone at their
customer (a device incident each), flipped offline by the real sweeper
(``sweep_offline``) so the incidents, site members, offline periods and events are
what production has. Then starts ``sofno serve --workers W`` on a free loopback port
and drives ``POST /api/v1/checkin`` with wrk: each wrk thread walks its own share of
the device keys, so every device checks in within the first N requests, and keeps
going round (ordinary check-ins once a device is back).

Figures:
- seconds: from the start of wrk to the last ``device.online`` event recorded (every
  device's first check-in is sent after that start, so each device is back online
  within this many seconds of its check-in; target: 10 s). With wrk's closed loop it
  includes the time wrk takes to send the first round of N check-ins. A returning
  device's check-in is answered once stored, and the device brought back right
  after; each device's own wait, from its first check-in of the run (its history
  ring) to its ``device.online``, is printed too (median, 99th percentile, most);
- p99_ms: wrk's 99th percentile check-in latency over the whole run, returning and
  ordinary check-ins together (target: 100 ms);
- every device online, every incident resolved, one ``device.online`` per device.

The machine's load average is printed with the figures: on a shared machine it
changes them a lot.

    SOFNO_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sofno python bench/recovery.py \
        --duration 30 --workers 2 --connections 128

The last line is JSON: devices, seconds, p99_ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Keep the other benchmarks' modules (bench/email.py) from shadowing the stdlib.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
from bench.wrk_report import WRK_REPORT_LUA  # noqa: E402 - after the path is set

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofno.settings")
os.environ.setdefault("SOFNO_DATA_DIR", tempfile.mkdtemp(prefix="sofno-bench-"))

# Thread n of T sends keys n, n + T, n + 2T, ...: together the threads send every key
# once in the first N requests, then go round again.
LUA = (
    """
local keys = {%(keys)s}
local threads = {}
local count = 0
local step = 1
local counter = 0
ok = 0
other = 0

function setup(thread)
  count = count + 1
  thread:set("first", count - 1)
  table.insert(threads, thread)
end

function init(args)
  counter = first
  step = %(threads)d
end

function request()
  local key = keys[(counter %% #keys) + 1]
  counter = counter + step
  return wrk.format("POST", "/api/v1/checkin",
    {["Authorization"] = "Device " .. key, ["Content-Type"] = "application/json"},
    '{"uptime": 12345, "disk_free": 1000000}')
end

"""
    + WRK_REPORT_LUA
)


def create_outage(count: int) -> tuple[int, list[str], list[str]]:
    """A throw-away organization with ``count`` devices flipped offline by the
    sweeper, plus 200 online devices of its own to warm the server up with; returns
    (org id, the offline devices' keys, the warm-up keys)."""
    import django

    django.setup()
    from django.core.management import call_command

    from sofno.core.models import Organization, hash_secret
    from sofno.directory.models import Customer
    from sofno.monitoring.actions import new_device_key, sweep_offline
    from sofno.monitoring.models import Device, DeviceStatus

    call_command("migrate", verbosity=0)
    org = Organization.objects.create(slug=f"bench-{secrets.token_hex(4)}", name="Bench")
    in_sites = count // 2
    customers = Customer.objects.bulk_create(
        [Customer(organization=org, name=f"Site {n}") for n in range(max(1, in_sites // 20))]
        + [Customer(organization=org, name=f"Shop {n}") for n in range(count - in_sites)]
        + [Customer(organization=org, name="Warm-up")]
    )
    sites = customers[: max(1, in_sites // 20)]
    shops, warm = customers[len(sites) : -1], customers[-1]
    now = dt.datetime.now(dt.UTC)
    past = now - dt.timedelta(hours=3)

    def device(customer, name: str, key: str, last: dt.datetime) -> Device:
        return Device(
            organization=org,
            customer=customer,
            name=name,
            key_prefix=key[:10],
            key_hash=hash_secret(key),
            status=DeviceStatus.ONLINE,
            last_checkin_at=last,
            alert_after=last + dt.timedelta(hours=2),
            effective_interval=3600,
            effective_grace=3600,
        )

    keys = [new_device_key() for _ in range(count)]
    rows = [device(sites[n % len(sites)], f"Till {n}", keys[n], past) for n in range(in_sites)]
    rows += [
        device(shops[n - in_sites], f"Till {n}", keys[n], past) for n in range(in_sites, count)
    ]
    warm_keys = [new_device_key() for _ in range(200)]
    rows += [device(warm, f"Warm {n}", key, now) for n, key in enumerate(warm_keys)]
    Device.objects.bulk_create(rows, batch_size=2000)
    started = time.monotonic()
    flipped = 0
    while done := sweep_offline():
        flipped += done
    print(f"the sweeper flipped {flipped} devices offline in {time.monotonic() - started:.1f}s")
    return org.pk, keys, warm_keys


def state(org_id: int) -> dict:
    from django.db.models import Count

    from sofno.monitoring.models import Device, Incident

    devices = dict(
        Device.objects.filter(organization_id=org_id)
        .exclude(customer__name="Warm-up")
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
        .order_by()
    )
    incidents = {
        f"{kind} {status}": n
        for kind, status, n in Incident.objects.filter(organization_id=org_id)
        .values_list("kind", "status")
        .annotate(n=Count("id"))
        .values_list("kind", "status", "n")
        .order_by()
    }
    return {"devices": devices, "incidents": incidents}


def device_waits(
    org_id: int, load_start: dt.datetime, seen_before: dict[uuid.UUID, int]
) -> tuple[list[float], int]:
    """Per device, seconds from its first check-in of the run to its ``device.online``
    event, sorted; and how many devices are left out because their ring no longer
    holds that check-in.

    The first check-in of the run is number ``checkins_seen + 1`` (counted before the
    load), found by its ``seq`` in the history ring; a device that checked in more
    often than its ring holds has lost it, and is counted, not guessed."""
    from sofno.events.models import Event
    from sofno.monitoring.models import CheckIn

    first = {
        public_id: at
        for public_id, seq, at in CheckIn.objects.filter(
            device__organization_id=org_id, at__gte=load_start
        ).values_list("device__public_id", "seq", "at")
        if seq == seen_before.get(public_id, -1) + 1
    }
    waits, lost = [], 0
    for subject, recorded in Event.objects.filter(
        organization_id=org_id, type="device.online", recorded_at__gte=load_start
    ).values_list("subject", "recorded_at"):
        checked_in = first.get(uuid.UUID(subject.removeprefix("device:")))
        if checked_in is None:
            lost += 1
        else:
            waits.append((recorded - checked_in).total_seconds())
    return sorted(waits), lost


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(port: int, timeout: float = 60.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not start on port {port}")


def lua(keys: list[str], threads: int) -> str:
    return LUA % {"keys": ",".join(f'"{k}"' for k in keys), "threads": threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=30, help="seconds of load")
    parser.add_argument("--workers", type=int, default=2, help="sofno serve processes")
    parser.add_argument("--connections", type=int, default=128, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for check-ins in flight"
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench organization")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed")

    started = time.monotonic()
    org_id, keys, warm_keys = create_outage(args.devices)
    print(f"set up {len(keys)} offline devices in {time.monotonic() - started:.1f}s")
    before = state(org_id)
    print(f"before: {before}")
    workdir = Path(tempfile.mkdtemp(prefix="sofno-bench-wrk-"))
    script, warm_script = workdir / "recovery.lua", workdir / "warm.lua"
    script.write_text(lua(keys, args.threads))
    warm_script.write_text(lua(warm_keys, 1))

    from django.db.models import Max

    from sofno.events.models import Event
    from sofno.monitoring.models import Device, DeviceStatus

    port = free_port()
    # The longest history ring, so that each device's first check-in of the run is
    # still there when the waits are measured (device_waits).
    env = {
        **os.environ,
        "SOFNO_LOG_LEVEL": "WARNING",
        "SOFNO_CHECKIN_RATE": "100000",
        "SOFNO_CHECKIN_HISTORY": "50",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from sofno.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    devices = Device.objects.filter(organization_id=org_id).exclude(customer__name="Warm-up")
    seen_before = dict(devices.values_list("public_id", "checkins_seen"))
    try:
        wait_for_server(port)
        time.sleep(1.0)  # let every worker process finish importing
        url = f"http://127.0.0.1:{port}"
        # A short warm-up on devices of their own opens each process's connections.
        warm = subprocess.run(
            ["wrk", "-t1", "-c8", "-d2s", "-s", str(warm_script), url],
            capture_output=True,
            text=True,
        )
        if warm.returncode:
            raise SystemExit(f"wrk failed: {warm.stdout} {warm.stderr}")
        load_start = dt.datetime.now(dt.UTC)
        result = subprocess.run(
            [
                "wrk",
                f"-t{args.threads}",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        # Check-ins still in flight when wrk stopped: wait until nothing moves for 3 s.
        deadline, still = time.monotonic() + args.timeout, time.monotonic()
        left = devices.exclude(status=DeviceStatus.ONLINE).count()
        while left and time.monotonic() < min(deadline, still + 3):
            time.sleep(0.5)
            now_left = devices.exclude(status=DeviceStatus.ONLINE).count()
            if now_left != left:
                left, still = now_left, time.monotonic()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(result.stdout)
    figures = json.loads(re.search(r"^WRK (.*)$", result.stdout, re.M).group(1))
    online = Event.objects.filter(
        organization_id=org_id, type="device.online", recorded_at__gte=load_start
    )
    last = online.aggregate(last=Max("recorded_at"))["last"]
    seconds = (last - load_start).total_seconds() if last else float("nan")
    offsets = sorted(
        (moment - load_start).total_seconds()
        for moment in online.values_list("recorded_at", flat=True)
    )
    waits, lost = device_waits(org_id, load_start, seen_before)
    after = state(org_id)
    out = {
        "devices": devices.filter(status=DeviceStatus.ONLINE).count(),
        "seconds": round(seconds, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
    }
    run_seconds = figures["duration_us"] / 1e6
    print(
        f"devices: {len(keys)}, server processes: {args.workers}, "
        f"connections: {args.connections}, wrk duration: {run_seconds:.1f}s"
    )
    print(f"after: {after}")
    print(
        f"back online: {out['devices']} of {len(keys)} ({left} not online), device.online "
        f"events: {online.count()}, last one {out['seconds']}s after the load started "
        f"(target 10 s)"
    )
    if offsets:
        marks = ", ".join(
            f"{share:.0%} by {offsets[min(len(offsets) - 1, int(share * len(offsets)))]:.2f}s"
            for share in (0.5, 0.9, 0.99)
        )
        print(f"devices back online (since the load started): {marks}")
    if waits:
        print(
            "each device back online after its first check-in: median "
            f"{waits[len(waits) // 2]:.2f}s, p99 {waits[int(len(waits) * 0.99)]:.2f}s, "
            f"most {waits[-1]:.2f}s"
        )
    if lost:
        print(f"{lost} devices left out of those waits: their ring no longer holds that check-in")
    print(
        f"check-ins: {figures['ok']} acknowledged ({figures['ok'] / run_seconds:.0f}/s), "
        f"p50: {figures['p50_us'] / 1000:.2f} ms, p99: {out['p99_ms']} ms (target 100 ms), "
        f"max: {figures['max_us'] / 1000:.1f} ms, non-200: {figures['other']}, "
        f"socket errors: {figures['errors']}"
    )
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if not args.keep:
        from sofno.core.models import Organization

        Organization.objects.filter(pk=org_id).delete()
    shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
