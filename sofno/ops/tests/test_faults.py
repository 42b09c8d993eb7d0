"""Proof under faults (issue 8, "Must show"): real ``sofno`` processes on PostgreSQL.

- Two ``sofno serve`` and two ``sofno worker`` processes share one database and a
  PostgreSQL task queue: every device that goes offline alerts exactly once.
- With two workers running, one is killed with SIGKILL mid-delivery: the other
  finishes the work and nothing is lost.
- A private PostgreSQL cluster (never the machine's shared one) is restarted under a
  steady load of check-ins and events: the processes recover by themselves, nothing
  acknowledged is lost and every due delivery goes out.

Every process is a real child process; the webhook receiver is a real HTTP server on
loopback in this process.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
import psycopg
import pytest
from standardwebhooks import Webhook

from sofno.conftest import wait_for
from sofno.notify.testing.receiver import Receiver

pytestmark = pytest.mark.slow

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    """A port the kernel just handed out (bound to 0, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(tmp_path: Path, url: str) -> dict[str, str]:
    """Settings for the children: the database and the queue both on PostgreSQL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOFNO_", "DJANGO_"))}
    env.update(
        PYTHONUNBUFFERED="1",
        SOFNO_DATA_DIR=str(tmp_path),
        SOFNO_DATABASE_URL=url,
        SOFNO_QUEUE_URL=url,
        SOFNO_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
        SOFNO_WEBHOOK_ALLOW_HTTP="true",
        SOFNO_WEBHOOK_ALLOWED_PORTS="*",
        SOFNO_DELIVERY_LEASE_SECONDS="3",
        SOFNO_WEBHOOK_TIMEOUT_SECONDS="2",
        SOFNO_EVENT_RATE="off",
        SOFNO_API_RATE="off",
        SOFNO_LOG_LEVEL="WARNING",
    )
    return env


def sofno(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    """Run ``sofno ARGS`` to completion; fail the test with its output if it fails."""
    out = subprocess.run(
        [sys.executable, "-m", "sofno.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def django(env: dict[str, str], code: str, **values: object) -> dict:
    """Run ``code`` in ``sofno manage shell`` (``__NAME__`` placeholders filled in with
    ``repr(value)``, since ``shell -c`` takes no arguments); returns its last JSON line."""
    for name, value in values.items():
        code = code.replace(f"__{name.upper()}__", repr(value))
    stdout = sofno(env, "manage", "shell", "-c", code)
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    assert lines, stdout
    return json.loads(lines[-1])


def start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """Start ``sofno ARGS`` in a session of its own, output appended to ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "sofno.cli", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the process's whole session; SIGKILL it if it does not end in time."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """A ``sofno serve`` on a free loopback port, once it answers ``/healthz``."""
    port = free_port()
    process = start(env, log, "serve", "--host", "127.0.0.1", "--port", str(port))
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            return httpx.get(url + "/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, timeout=60, what=f"sofno serve on {url}")
    return process, url


def socket_peers(pid: int) -> set[int]:
    """Remote TCP ports of the loopback connections that process ``pid`` holds open."""
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        lines = Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return set()
    ports = set()
    for line in lines:
        fields = line.split()
        if fields[9] in inodes and fields[3] == "01":  # 01: ESTABLISHED
            ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports


@pytest.fixture
def shared_pg(tmp_path, migrated):
    """A throw-away migrated database on the machine's PostgreSQL (dropped afterwards)."""
    name = f"sofno_j_{uuid.uuid4().hex[:8]}"
    yield base_env(tmp_path, migrated.postgres(name))
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- 1. two-node rehearsal -----------------------------------------------------------

DEVICES = 12

DEVICE_SETUP = """
import json
from sofno.core.models import Organization, hash_secret
from sofno.directory.models import Customer
from sofno.monitoring.actions import new_device_key
from sofno.monitoring.models import Device
from sofno.notify.models import WebhookEndpoint, new_secret
org = Organization.objects.create(slug="rehearsal", name="Rehearsal")
keys = []
for n in range(__COUNT__):
    # One computer per customer: each silence is its own device incident (computers of
    # one customer falling silent together would be one site incident).
    customer = Customer.objects.create(organization=org, name=f"Shop {n}")
    key = new_device_key()
    keys.append(key)
    Device.objects.create(
        organization=org, customer=customer, name=f"Till {n}", key_prefix=key[:10],
        key_hash=hash_secret(key), checkin_interval=5, grace=3,
        effective_interval=5, effective_grace=3,
    )
secret = new_secret()
WebhookEndpoint.objects.create(
    organization=org, url=__URL__, event_types=["device.offline", "incident.alert"],
    secrets=[{"secret": secret, "expires_at": None}],
)
print(json.dumps({"keys": keys, "secret": secret}))
"""

OFFLINE_STATE = """
import json
from sofno.monitoring.models import Device, Incident
print(json.dumps({
    "offline": Device.objects.filter(status="offline").count(),
    "incidents": Incident.objects.count(),
    "alerted": Incident.objects.filter(alerted_at__isnull=False).count(),
}))
"""


def test_it_alerts_each_offline_device_exactly_once_with_two_nodes(shared_pg, tmp_path):
    """Two web and two worker processes; every device checks in, then falls silent."""
    env = shared_pg
    # A slow-ish receiver keeps each delivery's connection open long enough to see
    # which worker process holds it.
    receiver = Receiver(delay=0.3).start()
    processes = []
    try:
        made = django(env, DEVICE_SETUP, count=DEVICES, url=receiver.url + "/hook")
        keys, secret = made["keys"], made["secret"]
        log = tmp_path / "rehearsal.log"
        web_a, url_a = serve(env, log)
        processes.append(web_a)
        web_b, url_b = serve(env, log)
        processes.append(web_b)
        workers = [start(env, log, "worker", "--threads", "2")]
        # The documented multi-worker layout: only one enqueues periodic tasks.
        workers.append(start(env, log, "worker", "--threads", "2", "--no-periodic"))
        processes.extend(workers)

        # Every device checks in through both web processes.
        for round_ in range(2):
            for n, key in enumerate(keys):
                url = (url_a, url_b)[(n + round_) % 2]
                answer = httpx.post(
                    url + "/api/v1/checkin",
                    headers={"Authorization": f"Device {key}"},
                    json={},
                    timeout=10,
                )
                assert answer.status_code == 200, answer.text

        # Then silence: each device passes its deadline (5 + 3 s) and is swept. The
        # deadline outlasts both rounds of check-ins (a new device's first check-in
        # takes the slower transactional path), so no device flips between them.
        receiver_port = receiver.server.server_address[1]
        seen_by: dict[int, int] = defaultdict(int)

        def all_alerted() -> bool:
            for worker in workers:
                assert worker.poll() is None, log.read_text()[-3000:]
                if receiver_port in socket_peers(worker.pid):
                    seen_by[worker.pid] += 1
            with receiver.lock:
                kinds = [(r.json["type"], r.json["subject"]) for r in receiver.received]
            return (
                sum(kind == "device.offline" for kind, _ in kinds) >= DEVICES
                and sum(kind == "incident.alert" for kind, _ in kinds) >= DEVICES
            )

        wait_for(all_alerted, timeout=45, what="every device's offline alert")
        # Watch a little longer: a double alert would arrive now.
        until = time.monotonic() + 4
        while time.monotonic() < until:
            all_alerted()
            time.sleep(0.05)
        state = django(env, OFFLINE_STATE)
    finally:
        for process in processes:
            stop(process)
        receiver.stop()

    verifier = Webhook(secret)
    per_device: dict[tuple[str, str], set[str]] = defaultdict(set)
    webhook_ids: dict[tuple[str, str], set[str]] = defaultdict(set)
    for got in receiver.received:
        verifier.verify(got.body, got.headers)
        key = (got.json["type"], got.json["subject"])
        per_device[key].add(got.json["id"])
        webhook_ids[key].add(got.headers["webhook-id"])
    subjects = {subject for _, subject in per_device}
    assert len(subjects) == DEVICES
    for kind in ("device.offline", "incident.alert"):
        for subject in subjects:
            # Exactly one event, and one delivery of it (a repeat would carry a new id).
            assert len(per_device[kind, subject]) == 1, (kind, subject)
            assert len(webhook_ids[kind, subject]) == 1, (kind, subject)
    assert len(receiver.received) == 2 * DEVICES
    assert state == {"offline": DEVICES, "incidents": DEVICES, "alerted": DEVICES}
    # Both workers delivered: each was seen holding a connection to the receiver.
    assert len(seen_by) == 2, dict(seen_by)


# --- 2. SIGKILL one of two workers mid-delivery ------------------------------------

EVENTS = 150

BURST = """
import json
from django.db import transaction
from sofno.core.models import Organization
from sofno.events.emit import NewEvent, emit_many
from sofno.notify.models import WebhookEndpoint, new_secret
org = Organization.objects.create(slug="kill2", name="Kill two")
secret = new_secret()
WebhookEndpoint.objects.create(
    organization=org, url=__URL__, secrets=[{"secret": secret, "expires_at": None}],
)
for batch in range(__EVENTS__ // 10):
    with transaction.atomic():
        emit_many(org, [NewEvent("customer.updated", f"c{batch}-{i}", {"n": batch * 10 + i})
                        for i in range(10)])
print(json.dumps({"secret": secret}))
"""

STATUSES = """
import json
from django.db.models import Count
from sofno.notify.models import Delivery
print(json.dumps(dict(Delivery.objects.values_list("status").annotate(n=Count("id")))))
"""


def test_it_finishes_the_work_when_one_of_two_workers_is_killed(shared_pg, tmp_path):
    """Kill -9 one worker while deliveries are in flight; the survivor delivers the rest."""
    env = shared_pg
    # Slow enough that deliveries are in flight for a while.
    receiver = Receiver(delay=0.25).start()
    log = tmp_path / "workers.log"
    workers = []
    try:
        secret = django(env, BURST, url=receiver.url + "/hook", events=EVENTS)["secret"]
        workers.append(start(env, log, "worker", "--threads", "2"))
        workers.append(start(env, log, "worker", "--threads", "2", "--no-periodic"))
        receiver_port = receiver.server.server_address[1]

        def delivering():
            # The first worker seen holding a connection to the receiver after the
            # burst got going: killed mid-delivery.
            if len(receiver.received) < EVENTS // 10:
                return None
            for worker in workers:
                if receiver_port in socket_peers(worker.pid):
                    return worker
            return None

        victim = wait_for(delivering, timeout=40, what="a worker mid-delivery")
        survivor = next(worker for worker in workers if worker is not victim)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        at_kill = len(receiver.received)
        assert at_kill < EVENTS, "the kill must land in the middle of the burst"

        def all_seen() -> bool:
            assert survivor.poll() is None, log.read_text()[-3000:]
            with receiver.lock:
                return len({r.json["data"]["n"] for r in receiver.received}) == EVENTS

        wait_for(all_seen, timeout=45, what="every event delivered")
        time.sleep(0.5)  # let the last answers be recorded

        def settled() -> dict:
            statuses = django(env, STATUSES)
            return statuses if statuses == {"succeeded": EVENTS} else {}

        statuses = wait_for(settled, timeout=20, what="every delivery succeeded")
    finally:
        for process in workers:
            stop(process)
        receiver.stop()

    assert statuses == {"succeeded": EVENTS}
    verifier = Webhook(secret)
    ids_per_event: dict[str, set[str]] = defaultdict(set)
    for got in receiver.received:
        verifier.verify(got.body, got.headers)
        ids_per_event[got.json["id"]].add(got.headers["webhook-id"])
    assert len(ids_per_event) == EVENTS
    # At least once: a repeat after the kill is the same delivery, never a new id.
    assert all(len(ids) == 1 for ids in ids_per_event.values())


# --- 3. PostgreSQL restart under steady load ---------------------------------------

LOAD_SETUP = """
import json
from sofno.core.models import ApiKey, Organization, hash_secret
from sofno.directory.models import Customer
from sofno.events.models import CustomEventType
from sofno.monitoring.actions import new_device_key
from sofno.monitoring.models import Device
from sofno.notify.models import WebhookEndpoint, new_secret
org = Organization.objects.create(slug="restart", name="Restart")
customer = Customer.objects.create(organization=org, name="Shop")
keys = []
for n in range(__COUNT__):
    key = new_device_key()
    keys.append(key)
    Device.objects.create(
        organization=org, customer=customer, name=f"Till {n}", key_prefix=key[:10],
        key_hash=hash_secret(key), checkin_interval=3600, grace=3600,
        effective_interval=3600, effective_grace=3600,
    )
_, api_key = ApiKey.issue(org, "load")
CustomEventType.objects.create(organization=org, name="load.test")
WebhookEndpoint.objects.create(
    organization=org, url=__URL__, event_types=["load.test"],
    secrets=[{"secret": new_secret(), "expires_at": None}],
)
print(json.dumps({"keys": keys, "api_key": api_key}))
"""

STORED = """
import json
from sofno.events.models import Event
from sofno.monitoring.models import Device
print(json.dumps({
    # Every stored check-in is counted on its device (its history is a ring).
    "checkins": dict(Device.objects.values_list("key_prefix", "checkins_seen")),
    "events": list(Event.objects.filter(type="load.test").values_list("subject", flat=True)),
}))
"""


def _pg(cluster: Path, *args: str) -> None:
    """Run a PostgreSQL server binary as the ``postgres`` OS user (it refuses root)."""
    command = [str(PG_BIN / args[0]), *args[1:]]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=60, cwd=cluster)


@pytest.fixture
def private_pg(tmp_path):
    """A PostgreSQL cluster of this test's own, on a free port: safe to restart."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN}")
    # Not under tmp_path: the postgres user must be able to reach the directory.
    cluster = Path(tempfile.mkdtemp(prefix="sofno-j-pg-"))
    if os.geteuid() == 0:
        shutil.chown(cluster, "postgres", "postgres")
    data = cluster / "data"
    port = free_port()
    _pg(cluster, "initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
    options = f"-p {port} -k {cluster} -c listen_addresses=127.0.0.1"
    _pg(
        cluster,
        "pg_ctl",
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(cluster / "pg.log"),
        "-w",
        "start",
    )
    try:
        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE sofno")
        env = base_env(tmp_path, f"postgres://postgres@127.0.0.1:{port}/sofno")
        sofno(env, "manage", "migrate", "-v", "0")

        def restart() -> None:
            before = (data / "postmaster.pid").read_text().split()[0]
            # ``-l`` again: without it the new postmaster would write to our pipe.
            log = str(cluster / "pg.log")
            _pg(cluster, "pg_ctl", "-D", str(data), "-l", log, "-m", "fast", "-w", "restart")
            after = (data / "postmaster.pid").read_text().split()[0]
            assert after != before, "PostgreSQL did not restart"

        yield env, restart
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-m",
                "immediate",
                "stop",
            ]
            if os.geteuid() == 0
            else [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(cluster, ignore_errors=True)


class Load(threading.Thread):
    """Alternates check-ins and posted events; records what was acknowledged, and when."""

    def __init__(self, url: str, keys: list[str], api_key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.keys, self.api_key = url, keys, api_key
        self.stopping = threading.Event()
        self.checkins: dict[str, int] = defaultdict(int)  # key prefix -> acknowledged
        self.events: list[str] = []  # subjects acknowledged (201)
        self.acked_at: list[tuple[float, str]] = []
        self.failures = 0
        self.last_failure = ""

    def run(self) -> None:
        n = 0
        with httpx.Client(timeout=5) as client:
            while not self.stopping.is_set():
                key = self.keys[n % len(self.keys)]
                subject = f"load:{n}"
                try:
                    answer = client.post(
                        self.url + "/api/v1/checkin",
                        headers={"Authorization": f"Device {key}"},
                        json={},
                    )
                    if answer.status_code == 200:
                        self.checkins[key[:10]] += 1
                        self.acked_at.append((time.monotonic(), "checkin"))
                    else:
                        self.failures += 1
                        self.last_failure = f"{answer.status_code} {answer.text[:300]}"
                    answer = client.post(
                        self.url + "/api/v1/events",
                        headers={"Authorization": f"Bearer {self.api_key}"},
                        json={"type": "load.test", "subject": subject, "data": {"n": n}},
                    )
                    if answer.status_code == 201:
                        self.events.append(subject)
                        self.acked_at.append((time.monotonic(), "event"))
                    else:
                        self.failures += 1
                        self.last_failure = f"{answer.status_code} {answer.text[:300]}"
                except httpx.HTTPError as error:
                    self.failures += 1
                    self.last_failure = repr(error)
                    time.sleep(0.05)
                n += 1
                time.sleep(0.01)


def test_it_recovers_from_a_postgresql_restart_under_load(private_pg, tmp_path):
    """Restart PostgreSQL while check-ins and events pour in; nothing acknowledged is lost."""
    env, restart = private_pg
    receiver = Receiver().start()
    log = tmp_path / "restart.log"
    processes = []
    load = None
    try:
        made = django(env, LOAD_SETUP, count=10, url=receiver.url + "/hook")
        web, url = serve(env, log)
        processes.append(web)
        processes.append(start(env, log, "worker", "--threads", "2"))
        load = Load(url, made["keys"], made["api_key"])
        load.start()

        def warmed_up() -> bool:
            # Before the restart, every request must succeed.
            assert not load.failures, load.last_failure
            return len(load.events) >= 20

        wait_for(warmed_up, timeout=20, what="load before the restart")
        restart()
        restarted_at = time.monotonic()

        def recovered() -> bool:
            after = {kind for at, kind in load.acked_at if at > restarted_at}
            return after == {"checkin", "event"} and len(load.events) > 0

        wait_for(recovered, timeout=30, what="the web process to recover")
        before_stop = len(load.events)
        wait_for(lambda: len(load.events) >= before_stop + 20, timeout=20, what="more load")
        load.stopping.set()
        load.join(timeout=15)
        acked_events = set(load.events)

        def delivered() -> bool:
            for process in processes:
                assert process.poll() is None, log.read_text()[-3000:]
            with receiver.lock:
                got = {r.json["subject"] for r in receiver.received}
            return acked_events <= got

        # The worker recovered too: every accepted event reaches the receiver.
        wait_for(delivered, timeout=40, what="every accepted event delivered")
        stored = django(env, STORED)
    finally:
        if load is not None:
            load.stopping.set()
        for process in processes:
            stop(process)
        receiver.stop()

    assert acked_events and sum(load.checkins.values())
    assert acked_events <= set(stored["events"])
    for prefix, acknowledged in load.checkins.items():
        assert stored["checkins"].get(prefix, 0) >= acknowledged, prefix
