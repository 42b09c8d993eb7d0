"""Webhook fan-out throughput: events to 10 endpoints on a loopback receiver.

Runs against the database named by ``SOFNO_DATABASE_URL`` (PostgreSQL for the real
figure; migrated first). Creates a throw-away organization with E endpoints (10 by
default) on one loopback receiver, records N events spread over K ordering keys,
then starts S sender processes running the real delivery machinery (dispatch, claim
with SKIP LOCKED, concurrent signed POSTs, bulk-written attempts) until every
delivery has succeeded. The receiver runs in its own process, checks every
Standard Webhooks signature and, for ordered endpoints, that each key's events
arrive in sequence.

    SOFNO_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sofno python bench/webhooks.py \
        --events 3000 --endpoints 10 --keys 200 --senders 2 --ordering ordered

The last line is JSON: deliveries_per_s, lost, order_violations (and the details).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This directory holds other benchmarks (bench/email.py would shadow the standard
# library's ``email``), so it must not be on the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofno.settings")
os.environ.setdefault("SOFNO_DATA_DIR", tempfile.mkdtemp(prefix="sofno-bench-"))
# The receiver is on loopback, plain http, on a free port: allowed for this run only.
os.environ["SOFNO_WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.0/8"
os.environ["SOFNO_WEBHOOK_ALLOW_HTTP"] = "true"
os.environ["SOFNO_WEBHOOK_ALLOWED_PORTS"] = "*"
# A queue nobody consumes: the senders below do the work, as a worker's loop would.
os.environ["SOFNO_QUEUE_URL"] = f"sqlite:///{os.environ['SOFNO_DATA_DIR']}/bench-queue.sqlite3"


# --- receiver (its own process) ---------------------------------------------------


def receiver_main(secret: str, ready, stop, results) -> None:
    """A small keep-alive HTTP/1.1 server: verify, record, answer 204."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    seen: set[tuple[str, str]] = set()
    last: dict[tuple[str, str], int] = {}
    stats = defaultdict(int)

    def handle(path: str, headers: dict[str, str], body: bytes) -> None:
        stats["requests"] += 1
        msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
        expected = base64.b64encode(
            hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        ).decode()
        signatures = [s.partition(",")[2] for s in headers.get("webhook-signature", "").split()]
        if not any(hmac.compare_digest(expected, s) for s in signatures):
            stats["bad_signatures"] += 1
            return
        document = json.loads(body)
        pair = (path, document["id"])
        if pair in seen:
            stats["duplicates"] += 1
        seen.add(pair)
        if path.startswith("/ordered"):
            slot = (path, document["ordering_key"])
            if document["sequence"] < last.get(slot, 0):
                stats["order_violations"] += 1
            last[slot] = max(last.get(slot, 0), document["sequence"])

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                handle(path, headers, body)
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.CancelledError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024)
        ready.put(server.sockets[0].getsockname()[1])
        while not stop.is_set():
            await asyncio.sleep(0.1)
        server.close()
        results.put({**stats, "unique": len(seen), "seen": sorted(f"{p} {i}" for p, i in seen)})

    asyncio.run(main())


# --- senders (their own processes) -------------------------------------------------


def sender_main(batch: int, done) -> None:
    """The real machinery, as a worker would run it, until nothing is left."""
    import django

    django.setup()
    from sofno.notify.delivery import machinery as delivery
    from sofno.notify.routing import dispatcher

    idle_since = None
    while not done.is_set():
        dispatcher.dispatch_pending()
        sent = delivery.deliver_due(limit=batch)
        if sent:
            idle_since = None
            continue
        idle_since = idle_since or time.monotonic()
        time.sleep(0.01)


# --- the run -----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--keys", type=int, default=200, help="ordering keys")
    parser.add_argument("--senders", type=int, default=2, help="sender processes")
    parser.add_argument("--batch", type=int, default=500, help="deliveries claimed per round")
    parser.add_argument("--ordering", choices=["ordered", "unordered", "mixed"], default="ordered")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the organization afterwards")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from sofno.core.models import Organization
    from sofno.events.emit import NewEvent, emit_many
    from sofno.notify.models import Attempt, Delivery, WebhookEndpoint, new_secret

    call_command("migrate", verbosity=0)
    print(f"database: {settings.DATABASES['default']['ENGINE']} {connection.settings_dict['NAME']}")
    spawn = mp.get_context("spawn")
    ready, results, stop = spawn.Queue(), spawn.Queue(), spawn.Event()
    secret = new_secret()
    receiver = spawn.Process(target=receiver_main, args=(secret, ready, stop, results))
    receiver.start()
    port = ready.get(timeout=30)

    org = Organization.objects.create(slug=f"bench-{uuid.uuid4().hex[:8]}", name="Webhook bench")
    modes = {
        "ordered": ["ordered"] * args.endpoints,
        "unordered": ["unordered"] * args.endpoints,
        "mixed": ["ordered", "unordered"] * args.endpoints,
    }[args.ordering][: args.endpoints]
    for index, mode in enumerate(modes):
        WebhookEndpoint.objects.create(
            organization=org,
            url=f"http://127.0.0.1:{port}/{mode}/{index}",
            ordering=mode,
            secrets=[{"secret": secret, "expires_at": None}],
        )
    # Recorded before the clock starts: the figure is delivery, not recording.
    created = time.monotonic()
    for start in range(0, args.events, 500):
        count = min(500, args.events - start)
        emit_many(
            org,
            [
                NewEvent("customer.updated", f"customer:{n}", {"n": n}, f"key{n % args.keys}")
                for n in range(start, start + count)
            ],
        )
    print(f"recorded {args.events} events in {time.monotonic() - created:.1f}s")
    expected = args.events * args.endpoints
    connection.close()

    done = spawn.Event()
    senders = [
        spawn.Process(target=sender_main, args=(args.batch, done)) for _ in range(args.senders)
    ]
    started = time.monotonic()
    for process in senders:
        process.start()
    finished = 0
    deadline = started + args.timeout
    while time.monotonic() < deadline:
        finished = Delivery.objects.filter(organization=org, status="succeeded").count()
        if finished >= expected:
            break
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    done.set()
    for process in senders:
        process.join(timeout=30)
    stop.set()
    received = results.get(timeout=30)
    receiver.join(timeout=10)

    attempts = Attempt.objects.filter(delivery__organization=org).count()
    dispatched = Delivery.objects.filter(organization=org).count()
    unique = received["unique"]
    figures = {
        "deliveries_per_s": round(finished / elapsed, 1),
        "lost": expected - unique,
        "order_violations": received.get("order_violations", 0),
        "deliveries": expected,
        "succeeded": finished,
        "dispatched": dispatched,
        "attempts_persisted": attempts,
        "duplicates": received.get("duplicates", 0),
        "bad_signatures": received.get("bad_signatures", 0),
        "seconds": round(elapsed, 2),
        "endpoints": args.endpoints,
        "ordering": args.ordering,
        "keys": args.keys,
        "senders": args.senders,
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
    }
    print(
        f"{finished}/{expected} deliveries in {elapsed:.1f}s = {figures['deliveries_per_s']}/s; "
        f"attempts stored {attempts}; received {received.get('requests', 0)} "
        f"(duplicates {figures['duplicates']}, bad signatures {figures['bad_signatures']}); "
        f"lost {figures['lost']}; order violations {figures['order_violations']}"
    )
    if not args.keep:
        org.delete()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
