"""Backups of the database: SQLite through its online backup API, PostgreSQL through
``pg_dump``/``pg_restore`` (custom format).

Rules:
- A backup is taken while SOFNO runs; SQLite's backup API copies a consistent
  snapshot, ``pg_dump`` runs in one repeatable-read transaction.
- Restore replaces the database's content; it refuses a file of the other engine.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore could not be done; the message says why."""


def _database() -> Mapping[str, Any]:
    return settings.DATABASES["default"]


def _pg_env_and_dsn() -> tuple[dict, str]:
    db = _database()
    dsn = (
        f"postgresql://{db.get('USER') or ''}"
        + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        + f"@{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )
    return {}, dsn


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed; install the PostgreSQL client tools")
    return path


def backup(target: Path) -> Path:
    """Write a backup of the database to ``target`` and return its path."""
    engine = _database()["ENGINE"]
    target.parent.mkdir(parents=True, exist_ok=True)
    if engine.endswith("sqlite3"):
        source = sqlite3.connect(_database()["NAME"])
        try:
            with sqlite3.connect(target) as copy:
                source.backup(copy)
        finally:
            source.close()
        return target
    _, dsn = _pg_env_and_dsn()
    result = subprocess.run(
        [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", dsn],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return target


def restore(source: Path) -> None:
    """Replace the database's content with the backup in ``source``."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    head = source.read_bytes()[:16]
    engine = _database()["ENGINE"]
    connections.close_all()
    if engine.endswith("sqlite3"):
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source} is not an SQLite backup")
        with sqlite3.connect(source) as backup_db, sqlite3.connect(_database()["NAME"]) as live:
            backup_db.backup(live)
        return
    if not head.startswith(PGDUMP_MAGIC):
        raise BackupError(f"{source} is not a pg_dump custom-format backup")
    _, dsn = _pg_env_and_dsn()
    result = subprocess.run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={dsn}",
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
