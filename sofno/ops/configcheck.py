"""``sofno check``: is this configuration able to run, and if not, why, in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection

from sofno.monitoring import conf as monitoring_conf
from sofno.ops.readiness import Probe, check_database, check_migrations, check_queue

# Connections the budget leaves free on the server: for psql, backups, migrations and
# whatever else shares it. The budget must fit in this share of the usable limit.
BUDGET_SHARE = 0.8


def settings_findings() -> list[Probe]:
    """Problems in the settings themselves, before any connection is tried."""
    findings = []
    base = urlsplit(settings.BASE_URL)
    https = base.scheme == "https"
    findings.append(
        Probe(
            "base url",
            base.scheme in {"http", "https"} and bool(base.hostname),
            f"SOFNO_BASE_URL is {settings.BASE_URL!r}"
            + ("" if https else " (plain http: fine for a laptop, not for production)"),
        )
    )
    host_allowed = base.hostname in settings.ALLOWED_HOSTS or "*" in settings.ALLOWED_HOSTS
    findings.append(
        Probe(
            "allowed hosts",
            host_allowed,
            f"SOFNO_ALLOWED_HOSTS={','.join(settings.ALLOWED_HOSTS)}"
            + ("" if host_allowed else f" does not include {base.hostname!r} from SOFNO_BASE_URL"),
        )
    )
    findings.append(
        Probe(
            "debug",
            not (settings.DEBUG and https),
            "SOFNO_DEBUG is on: never in production" if settings.DEBUG else "debug is off",
        )
    )
    findings.extend(ops_findings())
    return findings


def ops_findings() -> list[Probe]:
    """Trusted proxies, the metrics token and the rate-limit counters' store."""
    findings = []
    proxies = settings.TRUSTED_PROXIES
    behind_proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None) is not None
    findings.append(
        Probe(
            "trusted proxies",
            bool(proxies) or not behind_proxy,
            f"SOFNO_TRUSTED_PROXIES={','.join(proxies)}"
            if proxies
            else (
                "SOFNO_TRUST_PROXY is on but SOFNO_TRUSTED_PROXIES is empty: every client "
                "would look like the proxy (set it to the proxy's address, e.g. 127.0.0.1)"
                if behind_proxy
                else "none: the direct peer is the client (fine without a reverse proxy)"
            ),
        )
    )
    token = settings.METRICS_TOKEN
    findings.append(
        Probe(
            "metrics",
            not token or len(token) >= 16,
            "SOFNO_METRICS_TOKEN is unset: /metrics is off"
            if not token
            else (
                "/metrics is on"
                if len(token) >= 16
                else "SOFNO_METRICS_TOKEN is shorter than 16 characters: use a long random one"
            ),
        )
    )
    if settings.CACHE_URL:
        findings.append(_redis_probe(settings.CACHE_URL))
    return findings


def _redis_probe(url: str) -> Probe:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
        return Probe("rate-limit counters", True, "Redis at SOFNO_CACHE_URL answers")
    except redis.RedisError as exc:
        return Probe(
            "rate-limit counters", False, f"Redis at SOFNO_CACHE_URL does not answer: {exc}"
        )


@dataclass(frozen=True)
class ConnectionBudget:
    """The most PostgreSQL connections this installation may hold at once."""

    parts: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.parts)

    def describe(self) -> str:
        return " + ".join(f"{label}={n}" for label, n in self.parts)


def _same_server(url: str) -> bool:
    """Whether ``url`` (the queue's) points at the database's PostgreSQL server."""
    queue = urlsplit(url)
    if queue.scheme not in {"postgres", "postgresql"}:
        return False
    db = settings.DATABASES["default"]
    return (queue.hostname or "localhost", queue.port or 5432) == (
        db.get("HOST") or "localhost",
        int(db.get("PORT") or 5432),
    )


def connection_budget() -> ConnectionBudget:
    """Add up what every process of the installation may hold (see docs/deploy.md).

    - each ``sofno serve`` and ``sofno worker`` process: its pool
      (``SOFNO_DB_POOL_SIZE``), times ``SOFNO_WEB_PROCESSES`` / ``SOFNO_WORKER_PROCESSES``;
    - each ``sofno serve``: the check-in writers' own connections
      (``SOFNO_CHECKIN_WRITERS``);
    - with the task queue on the same PostgreSQL server: one connection per process
      plus one listening connection per worker thread.
    """
    pool = settings.DB_POOL_SIZE
    web, workers = settings.WEB_PROCESSES, settings.WORKER_PROCESSES
    parts = [
        (f"web {web}x{pool}", web * pool),
        (f"workers {workers}x{pool}", workers * pool),
        (
            f"check-in writers {web}x{monitoring_conf.writers()}",
            web * monitoring_conf.writers(),
        ),
    ]
    if _same_server(settings.QUEUE_URL):
        threads = settings.HUEY["consumer"]["workers"]
        parts.append((f"queue {web}+{workers}x{1 + threads}", web + workers * (1 + threads)))
    return ConnectionBudget(tuple(parts))


def _server_limit() -> tuple[int, str]:
    """Connections this installation may use on the server, and where that came from."""
    if settings.DB_MAX_CONNECTIONS:
        return settings.DB_MAX_CONNECTIONS, "SOFNO_DB_MAX_CONNECTIONS"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
        )
        (usable,) = cursor.fetchone()
    return usable, "the server's max_connections less its reserved ones"


def check_connection_budget() -> Probe:
    """The connection budget fits the server's limit with headroom (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return Probe("connection budget", True, f"{connection.vendor}: no connection limit")
    if not settings.DB_POOL_SIZE:
        return Probe(
            "connection budget",
            True,
            "SOFNO_DB_POOL_SIZE=0: no pool, connections are bounded only by what is in "
            "front of PostgreSQL (PgBouncer, see docs/deploy.md)",
        )
    budget = connection_budget()
    try:
        limit, source = _server_limit()
    except Exception as exc:  # the database probe reports the outage itself
        return Probe("connection budget", False, f"cannot read max_connections: {exc}")
    allowed = int(limit * BUDGET_SHARE)
    detail = (
        f"{budget.total} connections at most ({budget.describe()}); "
        f"{allowed} allowed ({int(BUDGET_SHARE * 100)}% of {limit}, {source})"
    )
    if budget.total > allowed:
        detail += (
            ": lower SOFNO_DB_POOL_SIZE, run fewer processes, or put PgBouncer in front "
            "(docs/deploy.md)"
        )
    return Probe("connection budget", budget.total <= allowed, detail)


def check_worker_pool() -> Probe:
    """A worker's threads fit its pool, so tasks do not queue for connections."""
    threads = settings.HUEY["consumer"]["workers"]
    pool = settings.DB_POOL_SIZE
    if connection.vendor != "postgresql" or not pool:
        return Probe("worker pool", True, "no pool")
    ok = threads + 1 <= pool
    detail = f"{threads} worker threads and the loops share a pool of {pool}"
    if not ok:
        detail += ": raise SOFNO_DB_POOL_SIZE above SOFNO_WORKER_THREADS"
    return Probe("worker pool", ok, detail)


def run_checks() -> list[Probe]:
    """Settings first, then the database, its migrations, the connection budget and the
    queue."""
    return [
        *settings_findings(),
        check_database(),
        check_migrations(),
        check_connection_budget(),
        check_worker_pool(),
        check_queue(),
    ]
