"""A real task through a real ``sofno worker`` process, on each kind of queue.

The worker and the process that enqueues share a real SQLite database in a temporary
data directory (a copy of the session's migrated template), not the test database.
"""

from __future__ import annotations

import json
import signal
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from huey import PostgresHuey, RedisHuey, SqliteHuey

from sofno.conftest import SOFNO, run_sofno, sofno_env, unexpected_tracebacks, wait_for
from sofno.core.queue import huey_from_url

# These tests share numbered databases of the one local Redis: one xdist worker runs them all.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("redis")]

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_QUEUE_DB = "sofno_b_queue"
REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture(scope="module")
def shared_data(tmp_path_factory, migrated) -> Path:
    """A data directory whose SQLite database is migrated and holds one organization."""
    data = tmp_path_factory.mktemp("worker-data")
    env = sofno_env(data)
    migrated.sqlite(data / "sofno.sqlite3")
    org = run_sofno("org", "create", "probe-org", "--name", "Probe", env=env)
    assert org.returncode == 0, org.stderr
    return data


def _postgres_queue_url() -> str:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", [PG_QUEUE_DB]
        ).fetchone()
        if not exists:
            conn.execute(f'create database "{PG_QUEUE_DB}"')
    return f"postgres://postgres@127.0.0.1:5432/{PG_QUEUE_DB}"


def _run_probe_through_worker(data: Path, queue_url: str | None) -> None:
    overrides = {"SOFNO_QUEUE_URL": queue_url} if queue_url else {}
    env = sofno_env(data, **overrides)
    worker = subprocess.Popen(
        [SOFNO, "worker", "--threads", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        token = uuid.uuid4().hex
        result = data / f"probe-{token}.json"
        # A separate producer process, as a web server would be.
        enqueue = run_sofno(
            "manage",
            "shell",
            "-c",
            f"from sofno.core.tasks import probe; probe({str(result)!r}, {token!r})",
            env=env,
        )
        assert enqueue.returncode == 0, enqueue.stderr
        wait_for(result.exists, timeout=20, what="the worker to run the probe task")
        seen = json.loads(result.read_text())
        assert seen["token"] == token
        assert seen["pid"] == worker.pid  # run by the worker, not by the producer
        assert seen["organizations"] == ["probe-org"]  # read from the shared database
    finally:
        worker.send_signal(signal.SIGINT)
        out, err = worker.communicate(timeout=20)
    assert worker.returncode == 0, err
    assert unexpected_tracebacks(err) == []
    assert "worker stopped" in out


def test_it_runs_a_task_in_a_worker_on_the_default_sqlite_queue(shared_data):
    _run_probe_through_worker(shared_data, None)
    assert (shared_data / "queue.sqlite3").exists()


def test_it_runs_a_task_in_a_worker_on_a_redis_queue(shared_data):
    _run_probe_through_worker(shared_data, REDIS_URL)


def test_it_runs_a_task_in_a_worker_on_a_postgres_queue(shared_data):
    _run_probe_through_worker(shared_data, _postgres_queue_url())


def test_it_refuses_to_run_a_worker_on_the_inline_queue():
    # The test run's own queue is memory:// (tasks run inline): nothing to consume.
    with pytest.raises(CommandError, match="memory://"):
        call_command("worker")


def test_it_builds_the_storage_each_queue_url_names(tmp_path):
    assert isinstance(huey_from_url("t", f"sqlite:///{tmp_path}/q.sqlite3"), SqliteHuey)
    assert isinstance(huey_from_url("t", REDIS_URL), RedisHuey)
    assert isinstance(huey_from_url("t", _postgres_queue_url()), PostgresHuey)
    redis.Redis.from_url(REDIS_URL).ping()  # the Redis the worker test used is real
    with pytest.raises(ImproperlyConfigured, match="SOFNO_QUEUE_URL"):
        huey_from_url("t", "amqp://localhost")
    with pytest.raises(ImproperlyConfigured, match="sqlite:///"):
        huey_from_url("t", "sqlite://relative.db")
