"""Benchmark: the main pages and API lists of a large organization, p50/p95 per URL.

Runs against the database in SOFNO_DATABASE_URL (migrating it first). Seeds, once per
database, an organization "bench-pages" with 1,000 customers, 10,000 devices,
1,000 incidents, 2,000 tickets and 100,000 events (bulk inserts), then requests each
page and API list ``--rounds`` times as a signed-in owner through Django's full
request cycle (middleware, scoping, templates; no network) and prints p50 and p95.
The target is every p95 under 300 ms. The last line is JSON:
{"slowest": URL, "p95_ms": ..., "pages": {URL: p95_ms, ...}}.

    SOFNO_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sofno python bench/pages.py
"""

from __future__ import annotations

import os
import sys

# bench/email.py would hide the standard library's ``email`` package: drop this folder.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofno.settings")
os.environ.setdefault("SOFNO_LOG_LEVEL", "WARNING")  # no access line per request

SLUG = "bench-pages"
CUSTOMERS, DEVICES, INCIDENTS, TICKETS, EVENTS = 1_000, 10_000, 1_000, 2_000, 100_000


def seed():
    """The bench organization and its owner, created with bulk inserts the first time."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from sofno.core.models import Membership, Organization, Role
    from sofno.directory.models import Customer
    from sofno.events.emit import NewEvent, emit_many
    from sofno.monitoring.models import Device, DeviceStatus, Incident
    from sofno.tickets.actions import ensure_ticket_defaults
    from sofno.tickets.models import Ticket, TicketStatus

    org = Organization.objects.filter(slug=SLUG).first()
    owner = get_user_model().objects.filter(username="bench-pages-owner").first()
    if org is not None and owner is not None:
        return org, owner
    started = time.perf_counter()
    org = Organization.objects.create(slug=SLUG, name="Bench pages", timezone="Europe/Rome")
    owner = get_user_model().objects.create_user("bench-pages-owner", password="x")
    Membership.objects.create(organization=org, user=owner, role=Role.OWNER)
    customers = Customer.objects.bulk_create(
        Customer(organization=org, name=f"Customer {n:04d}", city="Roma", timezone="Europe/Rome")
        for n in range(CUSTOMERS)
    )
    now = timezone.now()
    devices = Device.objects.bulk_create(
        Device(
            organization=org,
            customer=customers[n % CUSTOMERS],
            name=f"Till {n:05d}",
            key_prefix=f"b{n:09d}",
            key_hash=f"bench-pages-{n:052d}",
            status=DeviceStatus.OFFLINE if n % 17 == 0 else DeviceStatus.ONLINE,
            last_checkin_at=now,
        )
        for n in range(DEVICES)
    )
    Incident.objects.bulk_create(
        Incident(
            organization=org,
            device=devices[n * 7],
            customer_id=devices[n * 7].customer_id,
            title=f"Till {n * 7:05d} is offline",
        )
        for n in range(INCIDENTS)
    )
    ensure_ticket_defaults(org)
    status = TicketStatus.objects.filter(organization=org).first()
    Ticket.objects.bulk_create(
        Ticket(
            organization=org,
            number=n + 1,
            customer=customers[n % CUSTOMERS],
            title=f"Ticket {n}",
            status=status,
        )
        for n in range(TICKETS)
    )
    for start in range(0, EVENTS, 5_000):
        emit_many(
            org,
            [
                NewEvent(
                    "device.offline",
                    f"device:{devices[n % DEVICES].public_id}",
                    {"device_name": devices[n % DEVICES].name, "customer_name": "x"},
                )
                for n in range(start, start + 5_000)
            ],
        )
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    return org, owner


def urls(org) -> list[str]:
    from sofno.directory.models import Customer
    from sofno.monitoring.models import Device

    customer = Customer.objects.filter(organization=org).order_by("name").first()
    device = Device.objects.filter(organization=org).order_by("name").first()
    return [
        "/",
        "/dashboard/live/",
        "/customers/",
        "/customers/sla/",
        "/customers/?q=Customer%2000",
        f"/customers/{customer.public_id}/",
        "/devices/",
        f"/devices/{device.public_id}/",
        "/devices/map/",
        "/devices/map.json",
        "/incidents/",
        "/events/",
        "/tickets/",
        "/api/v1/customers?limit=100",
        "/api/v1/devices?limit=100",
        "/api/v1/incidents?limit=100",
        "/api/v1/events?limit=100",
        "/api/v1/tickets?limit=100",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0, interactive=False)
    org, owner = seed()
    client = Client()
    client.force_login(owner)
    figures: dict[str, float] = {}
    for url in urls(org):
        answer = client.get(url)  # warm: caches, first query plans
        if answer.status_code != 200:
            print(f"{url}: {answer.status_code} (skipped)")
            continue
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        figures[url] = round(p95, 1)
        print(f"{url:48} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms", flush=True)
    slowest = max(figures, key=figures.get)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"load average: {os.getloadavg()[0]:.2f}; database: {engine}")
    print(json.dumps({"slowest": slowest, "p95_ms": figures[slowest], "pages": figures}))


if __name__ == "__main__":
    main()
