"""Checks of what a SOFNO process depends on: the database and the task queue."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@dataclass
class Probe:
    """The outcome of one check, said plainly."""

    name: str
    ok: bool
    detail: str
    seconds: float = 0.0


def _timed(name: str, check) -> Probe:
    started = time.monotonic()
    try:
        detail = check()
        ok = True
    except Exception as exc:  # any failure is the answer, not a crash
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    return Probe(name, ok, detail, round(time.monotonic() - started, 4))


def check_database() -> Probe:
    """The database answers a query."""

    def run() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return f"{connection.vendor} reachable"

    return _timed("database", run)


def check_migrations() -> Probe:
    """Every migration is applied (the schema matches the code)."""

    def run() -> str:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in pending[:5])
            raise RuntimeError(f"{len(pending)} migration(s) not applied: {names}")
        return "all migrations applied"

    return _timed("migrations", run)


def check_queue() -> Probe:
    """The task queue's storage answers."""

    def run() -> str:
        from huey.contrib.djhuey import HUEY

        pending = HUEY.pending_count()
        return f"{type(HUEY).__name__} reachable, {pending} task(s) waiting"

    return _timed("queue", run)


def readiness() -> list[Probe]:
    """Everything a web or worker process needs before it can serve."""
    return [check_database(), check_queue()]
