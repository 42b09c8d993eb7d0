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
none of the test run's ``SOFNO_*`` settings leak into the child).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

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
