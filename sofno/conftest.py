"""Fixtures shared by every app's tests: a real browser, and real ``sofno`` processes.

Browser tests (mark them ``@pytest.mark.browser``) drive Debian's Chromium through
Playwright against pytest-django's ``live_server``::

    @pytest.mark.browser
    def test_it_shows_the_dashboard(cast, live_server, page, login):
        login(page, cast.owner)
        page.goto(live_server.url + "/")

``live_server`` makes the test use a transactional database, so rows created in the
test are committed and the server thread sees them, on SQLite and PostgreSQL alike.

Process tests start ``sofno`` commands with :func:`sofno_env` (a clean environment:
none of the test run's ``SOFNO_*`` settings leak into the child). Their databases come
migrated from the ``migrated`` fixture: one real ``sofno manage migrate`` per session
and engine, then a copy per test.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_VIEWPORT = {"width": 390, "height": 844}
SOFNO = str(Path(sys.executable).with_name("sofno"))
PG_SERVER = "postgres://postgres@127.0.0.1:5432"


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    """Hash test passwords with a fast hasher: every ``cast`` creates four users, and
    the production hasher's deliberate slowness would dominate the suite's time."""
    from django.conf import settings
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()  # cached per process; no settings signal told it
    get_hashers_by_algorithm.cache_clear()


def chromium_path() -> str:
    """The Chromium binary: ``SOFNO_CHROMIUM``, default Debian's ``/usr/bin/chromium``."""
    return os.environ.get("SOFNO_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def browser() -> Iterator:
    """A headless Chromium, started for one test and stopped after it.

    Playwright's sync API keeps an asyncio loop marked as running in this thread
    while it is started. Kept for a whole session it would break every later test
    that runs a loop of its own (``asyncio.run``, ``async_to_sync``), so it lives
    exactly as long as the test. Meanwhile Django is told that ORM calls from this
    thread are synchronous (they are; the loop is Playwright's).
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if not Path(executable).exists():
        pytest.fail(f"Chromium not found at {executable}; set SOFNO_CHROMIUM")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _new_page(browser, live_server, **context_options):
    context = browser.new_context(base_url=live_server.url, **context_options)
    context.set_default_timeout(10_000)
    return context, context.new_page()


@pytest.fixture
def page(browser, live_server) -> Iterator:
    """A fresh desktop-sized page whose relative URLs go to ``live_server``."""
    context, new_page = _new_page(browser, live_server, viewport={"width": 1280, "height": 900})
    yield new_page
    context.close()


@pytest.fixture
def phone_page(browser, live_server) -> Iterator:
    """A fresh page with a phone's viewport (390 px wide, touch)."""
    context, new_page = _new_page(
        browser, live_server, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True
    )
    yield new_page
    context.close()


def log_in(page, user, password: str | None = None) -> None:
    """Sign ``user`` in through the real login form and wait for the dashboard.

    The password defaults to the one ``sofno.core.testing.make_user`` sets.
    """
    from sofno.core.usernames import sign_in_name

    page.goto("/login/")
    page.fill("#id_username", sign_in_name(user))
    page.fill("#id_password", password or "pw-" + sign_in_name(user))
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.fixture
def login() -> Callable[..., None]:
    """``login(page, user)`` signs a user in through the login page."""
    return log_in


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than its viewport (0 when it fits)."""
    return page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )


def sofno_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment for a ``sofno`` child process using ``data_dir``.

    The test run's own ``SOFNO_*`` settings (an in-memory queue, the test database)
    are dropped, so the child starts from SOFNO's embedded defaults.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOFNO_", "DJANGO_"))}
    env.update(SOFNO_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", **overrides)
    return env


def run_sofno(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``sofno ARGS...`` to completion and return its result (text output)."""
    return subprocess.run(
        [SOFNO, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


class MigratedDatabases:
    """Fresh, fully migrated databases for ``sofno`` child processes, made cheaply.

    - The first request per engine (and PostgreSQL server) migrates a template with
      ``sofno manage migrate``, exactly as the tests did one by one before: a fresh
      migrate costs seconds of CPU, a copy milliseconds.
    - SQLite: every call copies the template file; PostgreSQL: every call creates a
      database from the template (``CREATE DATABASE ... TEMPLATE``).
    - Templates live for the session (one set per xdist worker, names are random, so
      workers never share one) and are removed at its end.
    """

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._sqlite_template: Path | None = None
        self._pg_templates: dict[str, str] = {}

    def sqlite(self, path: Path) -> Path:
        """Copy a migrated SQLite database to ``path`` and return ``path``."""
        if self._sqlite_template is None:
            self._sqlite_template = self._migrate_sqlite_template()
        shutil.copyfile(self._sqlite_template, path)
        return path

    def postgres(self, name: str, server: str = PG_SERVER) -> str:
        """Create the migrated database ``name`` on ``server``; return its URL.

        The caller drops it (``DROP DATABASE ... WITH (FORCE)``) when done.
        """
        if server not in self._pg_templates:
            self._pg_templates[server] = self._migrate_pg_template(server)
        template = self._pg_templates[server]
        with _pg_admin(server) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return f"{server}/{name}"

    def drop_templates(self) -> None:
        """Remove the PostgreSQL templates (the SQLite one goes with the temp dir)."""
        for server, template in self._pg_templates.items():
            with _pg_admin(server) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        self._pg_templates.clear()

    def _migrate(self, label: str, database_url: str) -> None:
        data_dir = self._workdir / label
        data_dir.mkdir()
        env = sofno_env(data_dir, SOFNO_DATABASE_URL=database_url)
        done = run_sofno("manage", "migrate", "-v", "0", env=env, timeout=300)
        if done.returncode != 0:
            pytest.fail(f"migrating the {label} template failed:\n{done.stderr}")

    def _migrate_sqlite_template(self) -> Path:
        template = self._workdir / "template.sqlite3"
        self._migrate("sqlite", f"sqlite:///{template}")
        # The children open it in WAL mode; back in rollback mode the template is one
        # self-contained file (no -wal or -shm beside it), safe to copy on its own.
        with closing(sqlite3.connect(template)) as db:
            db.execute("PRAGMA journal_mode=DELETE")
        return template

    def _migrate_pg_template(self, server: str) -> str:
        template = f"sofno_tpl_{uuid.uuid4().hex}"
        with _pg_admin(server) as conn:
            conn.execute(f'CREATE DATABASE "{template}"')
        self._migrate(template, f"{server}/{template}")
        with _pg_admin(server) as conn:
            # CREATE DATABASE ... TEMPLATE refuses a source anyone is connected to: let
            # nobody in, and end a backend the migrate process may have left closing.
            conn.execute(f'ALTER DATABASE "{template}" WITH ALLOW_CONNECTIONS false')
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [template],
            )
        return template


def _pg_admin(server: str) -> psycopg.Connection:
    """An autocommit connection to ``server``'s maintenance database."""
    return psycopg.connect(f"{server}/postgres", autocommit=True)


@pytest.fixture(scope="session")
def migrated(tmp_path_factory) -> Iterator[MigratedDatabases]:
    """Migrated databases to copy for process tests (see :class:`MigratedDatabases`)."""
    databases = MigratedDatabases(tmp_path_factory.mktemp("migrated"))
    yield databases
    databases.drop_templates()


def wait_for(predicate: Callable[[], object], timeout: float = 20, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def unexpected_tracebacks(stderr: str) -> list[str]:
    """Tracebacks in a process's stderr, except those a background loop logged.

    ``sofno.core.hooks`` logs a failing loop tick as ``loop NAME failed`` followed by
    its traceback and carries on; that is the loop's owner's business. Anything else
    (a crash on start-up or on Ctrl-C) is returned.
    """
    found = []
    lines = stderr.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Traceback"):
            previous = lines[index - 1] if index else ""
            if not (previous.startswith("loop ") and previous.endswith(" failed")):
                found.append("\n".join(lines[max(0, index - 1) : index + 15]))
    return found


@pytest.fixture
def loopback(settings):
    """The test settings: plain http on any port to loopback, allowed explicitly
    (for every outbound channel: webhooks, SMTP, web push, Apprise)."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.OUTBOUND_ALLOW_HTTP = True
    settings.OUTBOUND_ALLOWED_PORTS = "*"
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    return settings


@pytest.fixture
def smtp(cast, loopback) -> Iterator:
    """A real SMTP server (aiosmtpd) on loopback as the acme organization's default
    mail profile (``server.profile``); its messages are in ``server.messages``."""
    # Imported here: this conftest loads before pytest-django sets Django up.
    from sofno.notify.channels.email.smtp import POOL
    from sofno.notify.models import SmtpProfile
    from sofno.notify.testing.smtp_server import SmtpServer

    with SmtpServer() as server:
        server.profile = SmtpProfile.objects.create(
            organization=cast.org,
            name="Main",
            host="127.0.0.1",
            port=server.port,
            from_name="Acme Support",
            from_address="alerts@acme.test",
            is_default=True,
        )
        yield server
        POOL.close_all()
