"""Kill a real ``sofno worker`` (SIGKILL) in the middle of a burst, then restart it.

The worker runs in its own process against its own database (a fresh SQLite file,
or a fresh PostgreSQL database when the suite runs on PostgreSQL) and a SQLite
task queue; the receiver is a real HTTP server in this process.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings
from standardwebhooks import Webhook

from sofno.notify.testing.receiver import Receiver

EVENTS = 200

SETUP = """
import json
from django.db import transaction
from sofno.core.models import Organization
from sofno.events.emit import NewEvent, emit_many
from sofno.notify.models import WebhookEndpoint, new_secret
org = Organization.objects.create(slug="kill", name="Kill test")
secret = new_secret()
for ordering in ("ordered", "unordered"):
    WebhookEndpoint.objects.create(
        organization=org, url=__URL__ + ordering, ordering=ordering,
        secrets=[{"secret": secret, "expires_at": None}],
    )
for batch in range(__EVENTS__ // 10):
    with transaction.atomic():
        emit_many(org, [NewEvent("customer.updated", f"c{batch}-{i}", {"n": batch * 10 + i},
                                 f"key{i % 10}") for i in range(10)])
print(json.dumps({"secret": secret}))
"""

STATUS = """
import json
from django.db.models import Count
from sofno.notify.models import Delivery
print(json.dumps(dict(Delivery.objects.values_list("status").annotate(n=Count("id")))))
"""


@pytest.fixture
def isolated(tmp_path, migrated):
    """Environment for subprocesses with a migrated database of their own."""
    url = settings.DATABASE_URL
    dbname = None
    if url.startswith("postgres"):
        dbname = f"sofno_d_kill_{uuid.uuid4().hex[:8]}"
        parts = urlsplit(url)
        admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
        url = migrated.postgres(dbname, server=urlunsplit(parts._replace(path="")))
    else:
        url = f"sqlite:///{migrated.sqlite(tmp_path / 'sofno.sqlite3')}"
    env = {
        **os.environ,
        "SOFNO_DATA_DIR": str(tmp_path),
        "SOFNO_DATABASE_URL": url,
        "SOFNO_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        "SOFNO_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "SOFNO_WEBHOOK_ALLOW_HTTP": "true",
        "SOFNO_WEBHOOK_ALLOWED_PORTS": "*",
        "SOFNO_DELIVERY_LEASE_SECONDS": "3",
        "SOFNO_WEBHOOK_TIMEOUT_SECONDS": "2",
        "SOFNO_LOG_LEVEL": "WARNING",
    }
    yield env
    if dbname:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def _django(env, code, *args):
    out = subprocess.run(
        [sys.executable, "-m", "sofno.cli", "manage", "shell", "-c", code, *args],
        env=env,
        check=False,
        timeout=120,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    assert lines, out.stdout + out.stderr
    return json.loads(lines[-1])


def _worker(env, log):
    return subprocess.Popen(
        [sys.executable, "-m", "sofno.cli", "worker", "--threads", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.slow
@pytest.mark.per_engine  # its worker runs on the engine under test
def test_it_loses_nothing_when_the_worker_is_killed_mid_burst(isolated, tmp_path):
    """One ordered and one unordered endpoint receive the same burst."""
    receiver = Receiver(delay=0.02).start()
    try:
        # ``manage shell -c`` takes no script arguments: fill them into the code.
        setup = SETUP.replace("__URL__", repr(receiver.url + "/"))
        setup = setup.replace("__EVENTS__", repr(EVENTS))
        secret = _django(isolated, setup)["secret"]
        log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115
        first = _worker(isolated, log)
        receiver.wait_for(EVENTS // 2, timeout=90)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        at_kill = len(receiver.received)
        assert 0 < at_kill < 2 * EVENTS, "the kill must land in the middle of the burst"

        second = _worker(isolated, log)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with receiver.lock:
                    seen = {(r.path, r.json["data"]["n"]) for r in receiver.received}
                if len(seen) == 2 * EVENTS:
                    break
                time.sleep(0.2)
            time.sleep(0.5)  # let the last answers be recorded
            statuses = _django(isolated, STATUS)
        finally:
            second.send_signal(signal.SIGTERM)
            try:
                second.wait(timeout=15)
            except subprocess.TimeoutExpired:
                second.kill()
    finally:
        receiver.stop()

    expected = {(f"/{mode}", n) for mode in ("ordered", "unordered") for n in range(EVENTS)}
    assert seen == expected, (tmp_path / "worker.log").read_text()[-3000:]
    ids_per_delivery = defaultdict(set)
    verifier = Webhook(secret)
    for got in receiver.received:
        verifier.verify(got.body, got.headers)
        ids_per_delivery[got.path, got.json["id"]].add(got.headers["webhook-id"])
    # At least once: a repeat is a duplicate of the same delivery, never a new id.
    assert all(len(ids) == 1 for ids in ids_per_delivery.values())
    assert len(ids_per_delivery) == 2 * EVENTS
    assert statuses == {"succeeded": 2 * EVENTS}
    last: dict[str, int] = {}
    for got in receiver.received:
        if got.path != "/ordered":
            continue
        key, sequence = got.json["ordering_key"], got.json["sequence"]
        # A redelivery after the crash may repeat the key's last one, never go back further.
        assert sequence >= last.get(key, 0), (key, sequence, last.get(key))
        last[key] = sequence
