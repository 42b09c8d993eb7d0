"""Onboarding a fleet: 10,000 devices through ``POST /api/v1/devices/bulk``.

Runs against the database named by ``SOFNO_DATABASE_URL`` (migrated first). Creates a
throw-away organization with an API key and 500 customers, starts one ``sofno serve``
on a free loopback port and posts the devices in calls of 1,000 (the most one call
takes), one after the other, as an onboarding script would. Every answer must be 201
with a key per device, and every device must then be stored. The organization is
deleted at the end.

    SOFNO_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sofno python bench/onboarding.py \
        --devices 10000 --per-call 1000

The last line is JSON: devices, seconds, devices_per_s, slowest_call_s, database.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
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
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofno.settings")
os.environ.setdefault("SOFNO_DATA_DIR", tempfile.mkdtemp(prefix="sofno-bench-"))
# Nobody consumes this queue: the benchmark measures the call, not the dispatch after it.
os.environ["SOFNO_QUEUE_URL"] = f"sqlite:///{os.environ['SOFNO_DATA_DIR']}/bench-queue.sqlite3"

import httpx  # noqa: E402  (after the path fix: httpx imports the standard ``email``)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(customers: int) -> tuple[int, str, list[str]]:
    """A throw-away organization, an API key and customers; returns (org id, key, ids)."""
    import django

    django.setup()
    from django.core.management import call_command

    from sofno.core.models import ApiKey, Organization
    from sofno.directory.models import Customer

    call_command("migrate", verbosity=0)
    org = Organization.objects.create(slug=f"bench-{secrets.token_hex(4)}", name="Bench")
    _, key = ApiKey.issue(org, "onboarding bench")
    rows = Customer.objects.bulk_create(
        Customer(organization=org, name=f"Customer {n}") for n in range(customers)
    )
    return org.pk, key, [str(c.public_id) for c in rows]


def stored_for(org_id: int) -> int:
    from sofno.monitoring.models import Device

    return Device.objects.filter(organization_id=org_id).count()


def cleanup(org_id: int) -> None:
    from sofno.core.models import Organization

    Organization.objects.filter(pk=org_id).delete()


def wait_for_server(url: str, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("sofno serve exited before answering")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server did not answer on {url}")


def onboard(url: str, key: str, customers: list[str], devices: int, per_call: int) -> list[float]:
    """Post ``devices`` devices in calls of ``per_call``; returns each call's seconds."""
    durations = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        for start in range(0, devices, per_call):
            count = min(per_call, devices - start)
            items = [
                {
                    "customer": customers[(start + n) % len(customers)],
                    "name": f"Till {start + n}",
                    "os": "windows",
                    "pos_software": "",
                }
                for n in range(count)
            ]
            began = time.perf_counter()
            response = client.post("/api/v1/devices/bulk", json={"devices": items})
            durations.append(time.perf_counter() - began)
            if response.status_code != 201:
                raise SystemExit(f"call {len(durations)}: {response.status_code} {response.text}")
            answered = response.json()["devices"]
            if len(answered) != count or not all(d["key"] for d in answered):
                raise SystemExit(f"call {len(durations)}: {len(answered)} devices answered")
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--per-call", type=int, default=1000, help="devices per call (<= 1000)")
    parser.add_argument("--customers", type=int, default=500)
    args = parser.parse_args()

    org_id, key, customers = prepare(args.customers)
    from django.db import connection

    database = connection.vendor
    port = free_port()
    env = {**os.environ, "SOFNO_API_RATE": "off", "SOFNO_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [sys.executable, "-m", "sofno.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(url, server)
        began = time.perf_counter()
        durations = onboard(url, key, customers, args.devices, args.per_call)
        seconds = time.perf_counter() - began
        stored = stored_for(org_id)
    finally:
        server.terminate()
        server.wait(timeout=30)
        cleanup(org_id)
    if stored != args.devices:
        raise SystemExit(f"{stored} devices stored, {args.devices} posted")
    print(
        f"database: {database}, devices: {args.devices} in {len(durations)} calls of "
        f"{args.per_call}, customers: {args.customers}"
    )
    print(f"calls (s): {', '.join(f'{d:.2f}' for d in durations)}")
    print(f"total: {seconds:.2f} s, {args.devices / seconds:.0f} devices/s, all stored")
    print(
        json.dumps(
            {
                "devices": args.devices,
                "seconds": round(seconds, 2),
                "devices_per_s": round(args.devices / seconds, 1),
                "slowest_call_s": round(max(durations), 2),
                "database": database,
            }
        )
    )


if __name__ == "__main__":
    main()
