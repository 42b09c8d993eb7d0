"""The connection budget (issue 18): a bounded pool per process, 503 when it is full.

The burst test starts a real ``sofno serve`` on the test's PostgreSQL database with a
pool far smaller than the burst, and watches ``pg_stat_activity`` while it answers.
"""

from __future__ import annotations

import asyncio
import threading
import uuid

import httpx
import psycopg
import pytest
from django.db import OperationalError, connection
from django.test import RequestFactory
from psycopg_pool import PoolTimeout

from sofno.ops.configcheck import check_connection_budget, check_worker_pool, connection_budget
from sofno.ops.middleware import AbuseLimitMiddleware
from sofno.ops.tests.test_faults import base_env, serve, stop

# These tests share numbered databases of the one local Redis: one xdist worker runs them
# all. The pool is the engine's, so they run on each engine.
pytestmark = [pytest.mark.xdist_group("redis"), pytest.mark.per_engine]

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the pool and its budget are PostgreSQL's"
)

POOL = 3
BURST = 90
CONCURRENCY = 45


def _admin_dsn() -> str:
    db = connection.settings_dict
    return (
        f"host={db['HOST'] or 'localhost'} port={db['PORT'] or 5432} "
        f"user={db['USER'] or 'postgres'} dbname=postgres"
    )


def _url_for(name: str) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST']}:{db['PORT'] or 5432}/{name}"


class ConnectionWatch:
    """Polls ``pg_stat_activity`` for one application's connections; keeps the peak."""

    def __init__(self, application: str) -> None:
        self.application = application
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
            while not self._stop.is_set():
                (held,) = conn.execute(
                    "select count(*) from pg_stat_activity where application_name = %s",
                    [self.application],
                ).fetchone()
                self.peak = max(self.peak, held)
                self._stop.wait(0.005)

    def __enter__(self) -> ConnectionWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


async def _burst(url: str, key: str) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        headers = {"Authorization": f"Bearer {key}"}
        paths = ["/api/v1/devices", "/api/v1/customers", "/api/v1/incidents"]
        return await asyncio.gather(
            *(client.get(paths[n % len(paths)], headers=headers) for n in range(BURST))
        )


@postgres_only
@pytest.mark.slow
def test_it_answers_2xx_or_503_and_stays_within_the_pool_under_a_burst(
    transactional_db, cast, tmp_path
):
    application = f"sofno-burst-{uuid.uuid4().hex[:8]}"
    env = base_env(tmp_path, _url_for(connection.settings_dict["NAME"]))
    env.update(
        SOFNO_QUEUE_URL="memory://",
        SOFNO_DB_POOL_SIZE=str(POOL),
        # Short, so that a burst of this size certainly finds the pool full.
        SOFNO_DB_POOL_TIMEOUT="0.05",
        SOFNO_DB_APPLICATION_NAME=application,
    )
    process, url = serve(env, tmp_path / "serve.log")
    try:
        with ConnectionWatch(application) as watch:
            answers = asyncio.run(_burst(url, cast.key))
    finally:
        stop(process)
    statuses = sorted({a.status_code for a in answers})
    assert set(statuses) <= {200, 503}, (statuses, (tmp_path / "serve.log").read_text()[-3000:])
    busy = [a for a in answers if a.status_code == 503]
    assert busy, "the burst never found the pool full: the test proves nothing"
    assert any(a.status_code == 200 for a in answers)
    for answer in busy:
        assert answer.headers["Retry-After"] == "2"
        assert answer.json()["code"] == "busy"
    assert 0 < watch.peak <= POOL
    print(f"burst: {statuses}, {len(busy)} busy, peak {watch.peak} connections, pool {POOL}")


def test_it_maps_a_full_pool_to_a_busy_503_and_an_outage_to_unavailable():
    middleware = AbuseLimitMiddleware(lambda request: None)
    request = RequestFactory().get("/api/v1/devices")
    full = OperationalError("couldn't get a connection after 3.00 sec")
    full.__cause__ = PoolTimeout("couldn't get a connection after 3.00 sec")
    busy = middleware.process_exception(request, full)
    assert (busy.status_code, busy["Retry-After"]) == (503, "2")
    down = middleware.process_exception(request, OperationalError("connection refused"))
    assert (down.status_code, down["Retry-After"]) == (503, "5")


@postgres_only
def test_it_adds_up_the_budget_and_checks_it_against_the_server(settings, db):
    settings.DB_POOL_SIZE, settings.WEB_PROCESSES, settings.WORKER_PROCESSES = 10, 2, 1
    settings.QUEUE_URL = "redis://127.0.0.1:6379/0"
    budget = connection_budget()
    writers = dict(budget.parts)["check-in writers 2x2"]
    assert budget.total == 2 * 10 + 1 * 10 + writers
    settings.DB_MAX_CONNECTIONS = 0
    probe = check_connection_budget()
    assert probe.ok, probe.detail
    assert "max_connections" in probe.detail
    settings.WEB_PROCESSES = 20  # 20 x 10 cannot fit in a server of 100
    probe = check_connection_budget()
    assert not probe.ok and "PgBouncer" in probe.detail


@postgres_only
def test_it_counts_a_postgres_queue_on_the_same_server(settings, db):
    settings.DB_POOL_SIZE, settings.WEB_PROCESSES, settings.WORKER_PROCESSES = 5, 1, 1
    settings.QUEUE_URL = _url_for("sofno_queue")
    threads = settings.HUEY["consumer"]["workers"]
    assert dict(connection_budget().parts)[f"queue 1+1x{1 + threads}"] == 2 + threads
    settings.DB_MAX_CONNECTIONS = 10
    probe = check_connection_budget()
    assert not probe.ok and "SOFNO_DB_MAX_CONNECTIONS" in probe.detail


@postgres_only
def test_it_flags_a_pool_smaller_than_the_worker_threads(settings):
    settings.DB_POOL_SIZE = 2
    settings.HUEY = {**settings.HUEY, "consumer": {"workers": 4, "worker_type": "thread"}}
    assert not check_worker_pool().ok
    settings.DB_POOL_SIZE = 8
    assert check_worker_pool().ok


def test_it_answers_503_for_a_database_failure_met_outside_a_view():
    from sofno.ops.views import server_error

    request = RequestFactory().get("/")
    try:
        raise OperationalError("the session middleware lost the database")
    except OperationalError:
        response = server_error(request)
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(request).status_code == 500
