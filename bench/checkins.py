"""Check-in throughput: 10,000 devices, ``sofno serve`` processes, load from wrk.

Runs against the database named by ``SOFNO_DATABASE_URL`` (PostgreSQL for the real
figure). Creates a throw-away organization with N online devices, starts
``sofno serve --workers W`` on a free loopback port, drives ``POST /api/v1/checkin``
with wrk (a Lua script rotating the device keys), then counts the check-ins stored
for those devices (``Device.checkins_seen``; the history itself is a ring per
device). Every acknowledged (200) check-in must be stored.

    SOFNO_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sofno python bench/checkins.py \
        --duration 30 --workers 2 --connections 128

The last line is JSON: checkins_per_s, p99_ms, acknowledged, stored.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This directory holds other benchmarks (bench/email.py would shadow the standard
# library's ``email``), so it must not be on the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
from bench.wrk_report import WRK_REPORT_LUA  # noqa: E402 - after the path is set

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofno.settings")
os.environ.setdefault("SOFNO_DATA_DIR", tempfile.mkdtemp(prefix="sofno-bench-"))

LUA = (
    """
local keys = {%(keys)s}
local threads = {}
local counter = 0
ok = 0
other = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counter = math.random(#keys)
end

function request()
  counter = counter + 1
  local key = keys[(counter %% #keys) + 1]
  return wrk.format("POST", "/api/v1/checkin",
    {["Authorization"] = "Device " .. key, ["Content-Type"] = "application/json"},
    '{"uptime": 12345, "disk_free": 1000000}')
end

"""
    + WRK_REPORT_LUA
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_devices(count: int) -> tuple[int, list[str]]:
    """A throw-away organization with ``count`` online devices; returns (org id, keys)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from sofno.core.models import Organization, hash_secret
    from sofno.directory.models import Customer
    from sofno.monitoring.actions import new_device_key
    from sofno.monitoring.models import Device, DeviceStatus

    call_command("migrate", verbosity=0)
    org = Organization.objects.create(slug=f"bench-{secrets.token_hex(4)}", name="Bench")
    customers = Customer.objects.bulk_create(
        Customer(organization=org, name=f"Customer {n}") for n in range(max(1, count // 20))
    )
    now = timezone.now()
    keys = [new_device_key() for _ in range(count)]
    Device.objects.bulk_create(
        (
            Device(
                organization=org,
                customer=customers[n % len(customers)],
                name=f"Till {n}",
                key_prefix=key[:10],
                key_hash=hash_secret(key),
                status=DeviceStatus.ONLINE,
                last_checkin_at=now,
                alert_after=now + timezone.timedelta(hours=6),
                effective_interval=3600,
                effective_grace=3600,
            )
            for n, key in enumerate(keys)
        ),
        batch_size=2000,
    )
    return org.pk, keys


def stored_for(org_id: int) -> int:
    """Check-ins stored for the organization's devices (each counts on its device;
    the history itself is a fixed ring per device)."""
    from django.db.models import Sum

    from sofno.monitoring.models import Device

    found = Device.objects.filter(organization_id=org_id).aggregate(n=Sum("checkins_seen"))
    return found["n"] or 0


def cleanup(org_id: int) -> None:
    from sofno.core.models import Organization

    Organization.objects.filter(pk=org_id).delete()


def wait_for_server(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not start on port {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=30, help="seconds of load")
    parser.add_argument("--workers", type=int, default=2, help="sofno serve processes")
    parser.add_argument("--connections", type=int, default=128, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--keep", action="store_true", help="keep the bench organization")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed")

    started = time.monotonic()
    org_id, keys = create_devices(args.devices)
    print(f"created {len(keys)} devices in {time.monotonic() - started:.1f}s")
    workdir = Path(tempfile.mkdtemp(prefix="sofno-bench-wrk-"))
    script = workdir / "checkin.lua"
    script.write_text(LUA % {"keys": ",".join(f'"{k}"' for k in keys)})

    port = free_port()
    env = {
        **os.environ,
        "SOFNO_LOG_LEVEL": "WARNING",
        # The limiter still runs; the bench's own rate per device stays far below it.
        "SOFNO_CHECKIN_RATE": "100000",
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
    try:
        wait_for_server(port)
        time.sleep(1.0)  # let every worker process finish importing
        url = f"http://127.0.0.1:{port}"
        # A short warm-up opens each process's database connections.
        warm = subprocess.run(
            ["wrk", "-t1", "-c8", "-d2s", "-s", str(script), url], capture_output=True, text=True
        )
        if warm.returncode:
            raise SystemExit(f"wrk failed: {warm.stdout} {warm.stderr}")
        before = stored_for(org_id)
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
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(result.stdout)
    figures = json.loads(re.search(r"^WRK (.*)$", result.stdout, re.M).group(1))
    stored = stored_for(org_id) - before
    seconds = figures["duration_us"] / 1e6
    out = {
        "checkins_per_s": round(figures["ok"] / seconds, 1),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
        "acknowledged": figures["ok"],
        "stored": stored,
    }
    print(
        f"devices: {len(keys)}, server processes: {args.workers}, "
        f"connections: {args.connections}, duration: {seconds:.1f}s"
    )
    print(
        f"p50: {figures['p50_us'] / 1000:.2f} ms, p99: {out['p99_ms']} ms, "
        f"max: {figures['max_us'] / 1000:.1f} ms, non-200: {figures['other']}, "
        f"socket errors: {figures['errors']}"
    )
    print(
        f"acknowledged {out['acknowledged']}, stored {stored} "
        f"({'OK' if stored >= out['acknowledged'] else 'LOST CHECK-INS'})"
    )
    if not args.keep:
        cleanup(org_id)
    shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
