"""The shared test base: a pytest plugin loaded with ``-p sofno.core.testing``.

It points SOFNO at a throw-away data directory and an immediate queue *before*
Django reads its settings, and provides the standing cast of every test: one
organization with an owner, an agent and a viewer, and an outsider who owns
another organization. ``api_client(key)`` talks JSON to the real API.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    # Only for annotations: Django is configured below, after the environment.
    from django.contrib.auth.models import User
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

    from sofno.core.models import Organization

os.environ.setdefault("SOFNO_DATA_DIR", tempfile.mkdtemp(prefix="sofno-test-"))
os.environ.setdefault("SOFNO_QUEUE_URL", "memory://")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sofno.settings")


def pytest_configure(config: pytest.Config) -> None:
    """Hash test passwords cheaply: the standing cast creates four users per test,
    and PBKDF2's deliberate slowness would dominate the suite's run time."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    config.addinivalue_line(
        "markers",
        "per_engine: depends on the database engine under test without using its test "
        "database (kept by --database-tests-only)",
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--database-tests-only``: the suite's second pass, on another engine."""
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="run only the tests that use the database under test (or are marked "
        "per_engine), browser tests excepted: the others give the same result on every "
        "engine",
    )


# Fixtures through which a test reaches the database under test (pytest-django's).
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}
)


def engine_matters(item: pytest.Item) -> bool:
    """Whether a test's outcome can depend on the database engine: it touches the
    database under test, or says its engine matters (``per_engine``).

    Browser tests are the exception: what they check is the page in Chromium (layout,
    scripts, live updates); the server side of every page is tested through Django's
    client on each engine (``test_customer_scope_walk`` walks them all)."""
    if item.get_closest_marker("per_engine"):
        return True
    if item.get_closest_marker("browser"):
        return False
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(fixtures & DATABASE_FIXTURES or item.get_closest_marker("django_db"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``--database-tests-only``, leave out the tests a second engine cannot
    change (:func:`engine_matters`): the first pass has run them (the demo, the
    README's commands and the fault tests bring databases of their own)."""
    if not config.getoption("database_tests_only"):
        return
    kept = [item for item in items if engine_matters(item)]
    left_out = [item for item in items if not engine_matters(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@dataclass
class Cast:
    """The standing users of a test: who acts, in which organization."""

    org: Organization
    other_org: Organization
    owner: User
    agent: User
    viewer: User
    outsider: User
    key: str
    readonly_key: str
    other_key: str


def make_user(username: str, org: Organization, role: str) -> User:
    """A user with a membership of ``role`` in ``org``."""
    from django.contrib.auth import get_user_model

    from sofno.core.models import Membership

    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password="pw-" + username
    )
    Membership.objects.create(organization=org, user=user, role=role)
    return user


@pytest.fixture
def cast(db: None) -> Cast:
    """Owner, agent and viewer of "acme"; an outsider owning "globex"; API keys."""
    from sofno.core.models import ApiKey, Organization, Role

    org = Organization.objects.create(slug="acme", name="Acme Support", timezone="Europe/Rome")
    other = Organization.objects.create(slug="globex", name="Globex IT")
    _, key = ApiKey.issue(org, "test key")
    _, readonly_key = ApiKey.issue(org, "read-only key", read_only=True)
    _, other_key = ApiKey.issue(other, "other key")
    return Cast(
        org=org,
        other_org=other,
        owner=make_user("olivia", org, Role.OWNER),
        agent=make_user("adam", org, Role.AGENT),
        viewer=make_user("vera", org, Role.VIEWER),
        outsider=make_user("oscar", other, Role.OWNER),
        key=key,
        readonly_key=readonly_key,
        other_key=other_key,
    )


class ApiClient:
    """JSON calls to the API with an ``Authorization: Bearer`` key, or (through
    :meth:`as_user`) with a signed-in session."""

    def __init__(self, key: str | None, *, enforce_csrf: bool = False) -> None:
        from django.test import Client

        self.client = Client(enforce_csrf_checks=enforce_csrf)
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    @classmethod
    def as_user(cls, user: User, *, enforce_csrf: bool = False) -> ApiClient:
        """A client signed in as ``user`` (session cookie, no key)."""
        client = cls(None, enforce_csrf=enforce_csrf)
        client.client.force_login(user)
        return client

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> Response:
        data = json.dumps(body) if body is not None else None
        return self.client.generic(
            method,
            "/api/v1" + path,
            data=data or "",
            content_type="application/json",
            headers={**self.headers, **headers},
        )

    def get(self, path: str, **headers: str) -> Response:
        return self.call("GET", path, **headers)

    def post(self, path: str, body: Any = None, **headers: str) -> Response:
        return self.call("POST", path, body, **headers)

    def patch(self, path: str, body: Any = None, **headers: str) -> Response:
        return self.call("PATCH", path, body, **headers)

    def put(self, path: str, body: Any = None, **headers: str) -> Response:
        return self.call("PUT", path, body, **headers)

    def delete(self, path: str, **headers: str) -> Response:
        return self.call("DELETE", path, **headers)


@pytest.fixture
def api_client() -> type[ApiClient]:
    """Factory: ``api_client(cast.key).get("/customers")``."""
    return ApiClient


def field_errors(response: Response) -> dict[str, str]:
    """``{field: rule}`` from a 422 answer, for short assertions."""
    return {err["field"]: err["rule"] for err in response.json()["errors"]}
