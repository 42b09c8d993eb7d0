"""``sofno check``, ``backup`` and ``restore`` run as real commands on real databases."""

import os
import subprocess
import sys
import uuid

import psycopg
import pytest

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def sofno(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "sofno.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"sofno {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def sqlite_env(tmp_path, migrated):
    database = migrated.sqlite(tmp_path / "db.sqlite3")
    return {
        "SOFNO_DATA_DIR": str(tmp_path),
        "SOFNO_DATABASE_URL": f"sqlite:///{database}",
        "SOFNO_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
    }


@pytest.fixture
def postgres_env(tmp_path, migrated):
    name = f"sofno_ops_{uuid.uuid4().hex[:8]}"
    env = {
        "SOFNO_DATA_DIR": str(tmp_path),
        "SOFNO_DATABASE_URL": migrated.postgres(name),
        "SOFNO_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
    }
    yield env
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def org_slugs(env: dict) -> list[str]:
    out = sofno(env, "org", "list").stdout
    return sorted(line.split("\t")[0] for line in out.splitlines() if line.strip())


def test_it_passes_check_on_a_good_configuration(sqlite_env):
    result = sofno(sqlite_env, "check")
    assert "FAIL" not in result.stdout
    assert "ok   database" in result.stdout and "ok   queue" in result.stdout


def test_it_says_plainly_what_is_wrong(sqlite_env):
    env = {**sqlite_env, "SOFNO_QUEUE_URL": "redis://127.0.0.1:1/0"}
    result = sofno(env, "check", check=False)
    assert result.returncode != 0
    assert "FAIL queue" in result.stdout
    assert "should not start" in result.stderr


def test_it_reports_unapplied_migrations(tmp_path):
    env = {
        "SOFNO_DATA_DIR": str(tmp_path),
        "SOFNO_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "SOFNO_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
    }
    result = sofno(env, "check", check=False)
    assert "FAIL migrations" in result.stdout and "not applied" in result.stdout


def current_engine() -> str:
    """The suite runs once per database; each pass covers its own engine's backups."""
    from django.conf import settings

    return "postgres" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"


@pytest.mark.per_engine
def test_it_backs_up_and_restores(request, tmp_path):
    env = request.getfixturevalue(f"{current_engine()}_env")
    sofno(env, "org", "create", "kept", "--name", "Kept")
    backup_file = tmp_path / "backup.dump"
    sofno(env, "backup", "-o", str(backup_file))
    sofno(env, "org", "create", "later", "--name", "Created after the backup")
    assert org_slugs(env) == ["kept", "later"]
    sofno(env, "restore", str(backup_file), "--yes")
    assert org_slugs(env) == ["kept"]


def test_it_refuses_a_backup_of_the_other_engine(sqlite_env, tmp_path):
    bogus = tmp_path / "not-a-backup.dump"
    bogus.write_bytes(b"PGDMP" + b"\0" * 100)
    result = sofno(sqlite_env, "restore", str(bogus), "--yes", check=False)
    assert result.returncode != 0 and "not an SQLite backup" in result.stderr
