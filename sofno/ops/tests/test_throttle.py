"""Abuse limits: API and event rates, login throttling, body sizes, the API's 404/405."""

import os
import sqlite3
import subprocess
import sys
import threading
import uuid

import pytest
import redis
import time_machine
from django.db import connection
from django.test import Client

from sofno.core.models import ApiKey
from sofno.core.ratelimit import Rate
from sofno.ops.models import RateCounter
from sofno.ops.throttle import DbCounter, prune

# These tests share numbered databases of the one local Redis: one xdist worker runs them all.
pytestmark = pytest.mark.xdist_group("redis")

NOON = "2026-03-02 12:00:10 +00:00"
EVENT = {
    "type": "invoice.delivered",
    "subject": "invoice:1",
    "data": {"delivered_at": "2026-03-02T08:15:00Z"},
}


@pytest.fixture
def billing(cast, api_client):
    """The billing catalog, so ``invoice.delivered`` is a known event type."""
    response = api_client(cast.key).post("/event-types/catalogs/billing")
    assert response.status_code == 201, response.content


@pytest.fixture
def rates(settings):
    settings.API_RATE = Rate(3, 60)
    settings.EVENT_RATE = Rate(2, 60)
    settings.CACHE_URL = ""
    return settings


@time_machine.travel(NOON, tick=False)
def test_it_answers_429_with_retry_after_past_the_api_rate(cast, api_client, rates):
    client = api_client(cast.key)
    assert [client.get("/events").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/events")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "50"
    body = refused.json()
    assert body["code"] == "rate_limited" and body["errors"] == []
    assert "50 seconds" in body["message"]


@time_machine.travel(NOON, tick=False)
def test_it_counts_each_key_apart(cast, api_client, rates):
    for _ in range(3):
        api_client(cast.key).get("/events")
    assert api_client(cast.key).get("/events").status_code == 429
    assert api_client(cast.readonly_key).get("/events").status_code == 200
    assert api_client(cast.other_key).get("/events").status_code == 200


def test_it_lets_the_caller_back_in_the_next_window(cast, api_client, rates):
    with time_machine.travel(NOON, tick=False) as traveller:
        client = api_client(cast.key)
        for _ in range(3):
            client.get("/events")
        assert client.get("/events").status_code == 429
        traveller.shift(50)
        assert client.get("/events").status_code == 200


@time_machine.travel(NOON, tick=False)
def test_it_limits_event_posting_tighter_than_the_api(cast, api_client, billing, rates):
    from sofno.events.models import Event

    rates.API_RATE = Rate(100, 60)
    client = api_client(cast.key)
    assert client.post("/events", EVENT).status_code == 201
    assert client.post("/events", EVENT).status_code == 201
    refused = client.post("/events", EVENT)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert "events" in refused.json()["message"]
    assert int(refused["Retry-After"]) == 50
    assert Event.objects.filter(organization=cast.org).count() == 2
    # Reading events is not event posting.
    assert client.get("/events").status_code == 200
    other = api_client(cast.other_key)
    assert other.post("/event-types/catalogs/billing").status_code == 201
    assert other.post("/events", EVENT).status_code == 201


@time_machine.travel(NOON, tick=False)
def test_it_counts_anonymous_callers_by_client_ip_behind_a_trusted_proxy(db, client, rates):
    rates.TRUSTED_PROXIES = ["127.0.0.0/8"]

    def call(ip: str):
        return client.get("/api/v1/me", headers={"X-Forwarded-For": ip})

    assert [call("203.0.113.1").status_code for _ in range(3)] == [401, 401, 401]
    assert call("203.0.113.1").status_code == 429
    assert call("203.0.113.2").status_code == 401


@time_machine.travel(NOON, tick=False)
def test_it_counts_failed_keys_per_address_without_a_row_per_key(cast, api_client, rates):
    rates.API_RATE = Rate(1000, 60)
    rates.API_AUTH_FAILURE_RATE = Rate(10, 600)
    answers = [
        api_client(f"sofno_{uuid.uuid4().hex}").get("/events").status_code for _ in range(40)
    ]
    assert answers[:10] == [401] * 10
    assert set(answers[10:]) == {429}
    assert RateCounter.objects.count() <= 3
    # A real key from the same address still works: only failures are refused.
    assert api_client(cast.key).get("/events").status_code == 200


@time_machine.travel(NOON, tick=False)
def test_it_counts_made_up_session_cookies_as_failures_of_the_address(db, client, rates):
    from django.conf import settings

    rates.API_RATE = Rate(1000, 60)
    rates.API_AUTH_FAILURE_RATE = Rate(5, 600)
    answers = []
    for _ in range(8):
        client.cookies[settings.SESSION_COOKIE_NAME] = uuid.uuid4().hex
        answers.append(client.get("/api/v1/me").status_code)
    assert answers == [401] * 5 + [429] * 3
    assert RateCounter.objects.count() <= 3


def test_it_counts_nothing_when_a_limit_is_off(cast, api_client, rates):
    rates.API_RATE = None
    for _ in range(5):
        assert api_client(cast.key).get("/events").status_code == 200
    assert not RateCounter.objects.exists()


@time_machine.travel(NOON, tick=False)
def test_it_shares_counters_through_redis_when_configured(cast, api_client, rates):
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.ConnectionError:  # pragma: no cover - CI provides Redis
        pytest.skip("Redis is not running")
    rates.CACHE_URL = url
    rates.API_RATE = Rate(2, 60)
    # A fresh key per run: earlier runs' counters in Redis must not leak in.
    _, plain = ApiKey.issue(cast.org, f"redis {uuid.uuid4().hex}")
    key = api_client(plain)
    assert [key.get("/events").status_code for _ in range(3)] == [200, 200, 429]
    assert not RateCounter.objects.exists()


# ---------------------------------------------------------------- database counter


@pytest.mark.django_db(transaction=True)
def test_it_loses_no_hit_when_many_connections_count_at_once():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # The test database is then a shared-cache memory database, which refuses a
        # second writer outright (SQLITE_LOCKED) instead of waiting like a file does.
        pytest.skip("needs PostgreSQL or a file database")

    def hammer():
        counter = DbCounter()
        try:
            for _ in range(25):
                counter.hit("shared", 0, 60)
        finally:
            connection.close()

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert DbCounter().peek("shared", 0) == 100


@pytest.mark.django_db
def test_it_prunes_windows_long_over():
    RateCounter.objects.create(bucket="old", window_start=0, count=3)
    RateCounter.objects.create(bucket="new", window_start=10**6, count=3)
    assert prune(now=10**6) == 1
    assert list(RateCounter.objects.values_list("bucket", flat=True)) == ["new"]


# ---------------------------------------------------------------- login


@pytest.fixture
def login_rates(settings):
    settings.LOGIN_USER_RATE = Rate(3, 900)
    settings.LOGIN_IP_RATE = Rate(5, 900)
    settings.LOGIN_USER_GLOBAL_RATE = Rate(50, 900)
    settings.CACHE_URL = ""
    return settings


def _login(client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def test_it_locks_an_account_after_repeated_failures(client, cast, login_rates):
    with time_machine.travel(NOON, tick=False) as traveller:
        for _ in range(3):
            assert _login(client, "olivia", "wrong").status_code == 200
        locked = _login(client, "olivia", "pw-olivia")  # even the right password
        assert locked.status_code == 200
        assert "_auth_user_id" not in client.session
        errors = locked.context["form"].non_field_errors().as_data()
        assert errors[0].code == "login_throttled"
        assert "Too many failed sign-ins for this account" in locked.content.decode()
        assert "15 minutes" in locked.content.decode()
        # Another account from the same address is not locked yet.
        assert _login(client, "adam", "pw-adam").status_code == 302
        client.logout()
        traveller.shift(900)
        assert _login(client, "olivia", "pw-olivia").status_code == 302


def _login_from(client, ip: str, username: str, password: str):
    return client.post(
        "/login/",
        {"username": username, "password": password},
        headers={"X-Forwarded-For": ip},
    )


def test_a_stranger_cannot_lock_the_owner_out(client, cast, login_rates):
    login_rates.TRUSTED_PROXIES = ["127.0.0.0/8"]
    with time_machine.travel(NOON, tick=False):
        for _ in range(4):
            _login_from(client, "203.0.113.66", "olivia", "wrong")
        stranger = _login_from(client, "203.0.113.66", "olivia", "pw-olivia")
        assert "Too many failed sign-ins for this account" in stranger.content.decode()
        owner = _login_from(Client(), "198.51.100.7", "olivia", "pw-olivia")
        assert owner.status_code == 302


def test_many_addresses_failing_one_account_only_slow_it(client, cast, login_rates):
    login_rates.TRUSTED_PROXIES = ["127.0.0.0/8"]
    login_rates.LOGIN_USER_GLOBAL_RATE = Rate(6, 900)
    login_rates.LOGIN_PACE_SECONDS = 30
    with time_machine.travel(NOON, tick=False) as traveller:
        for n in range(6):
            _login_from(Client(), f"203.0.113.{n + 1}", "olivia", "wrong")
        # A seventh address: one attempt now, then it must wait.
        guess = _login_from(Client(), "203.0.113.99", "olivia", "wrong")
        assert "didn" in guess.content.decode()
        again = _login_from(Client(), "203.0.113.99", "olivia", "wrong-2")
        assert "wait 30 seconds between attempts" in again.content.decode()
        # The owner, from her own address, still gets in.
        owner = Client()
        assert _login_from(owner, "198.51.100.7", "olivia", "pw-olivia").status_code == 302
        traveller.shift(31)
        guess = _login_from(Client(), "203.0.113.99", "olivia", "wrong-3")
        assert "didn" in guess.content.decode()


def test_it_locks_an_address_trying_many_usernames(client, cast, login_rates):
    with time_machine.travel(NOON, tick=False):
        for name in ["a1", "a2", "a3", "a4", "a5"]:
            _login(client, name, "wrong")
        locked = _login(client, "vera", "pw-vera")
        assert "Too many failed sign-ins from your network" in locked.content.decode()
        assert "_auth_user_id" not in client.session


def test_it_clears_an_accounts_failures_after_a_good_sign_in(client, cast, login_rates):
    with time_machine.travel(NOON, tick=False):
        _login(client, "olivia", "wrong")
        _login(client, "olivia", "wrong")
        assert _login(client, "olivia", "pw-olivia").status_code == 302
        client.logout()
        _login(client, "olivia", "wrong")
        _login(client, "olivia", "wrong")
        assert _login(client, "olivia", "pw-olivia").status_code == 302


def test_it_keeps_the_usual_message_for_a_wrong_password(client, cast, login_rates):
    response = _login(client, "olivia", "wrong")
    assert "didn" in response.content.decode() and "Too many" not in response.content.decode()


# ---------------------------------------------------------------- sizes


def test_it_answers_413_in_the_error_shape_for_a_large_api_body(
    cast, api_client, billing, settings
):
    from sofno.events.models import Event

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_client(cast.key).post("/events", {**EVENT, "data": {"x": "y" * 2000}})
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "payload_too_large"
    assert body["errors"] == [{"field": "body", "rule": "max_size", "message": body["message"]}]
    assert "1000" in body["message"]
    assert not Event.objects.exists()
    assert api_client(cast.key).post("/events", EVENT).status_code == 201


def test_it_answers_413_for_a_large_upload_on_a_page(client, cast, settings):
    settings.MAX_UPLOAD_BYTES = 2000
    client.force_login(cast.owner)
    upload = {"file": ("x" * 5000).encode()}
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/oncall/yaml/", {"file": SimpleUploadedFile("big.yaml", upload["file"])}
    )
    assert response.status_code == 413
    assert "at most 2000" in response.content.decode()


# ---------------------------------------------------------------- 404/405 shape


def test_it_answers_405_from_the_api_in_the_error_shape(cast, api_client):
    response = api_client(cast.key).call("PUT", "/me")
    assert response.status_code == 405
    body = response.json()
    assert body["code"] == "method_not_allowed" and body["errors"] == []
    assert "GET" in response["Allow"] and "GET" in body["message"]


def test_it_answers_404_for_an_unknown_api_path_in_the_error_shape(cast, api_client):
    response = api_client(cast.key).get("/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_it_leaves_the_api_docs_alone(client):
    assert client.get("/api/openapi.json").status_code == 200


HAMMER = """
import django
django.setup()
from sofno.ops.throttle import DbCounter
counter = DbCounter()
for _ in range(50):
    counter.hit("shared", 0, 60)
"""


@pytest.mark.slow
def test_it_loses_no_hit_when_several_processes_share_a_sqlite_file(tmp_path, migrated):
    env = {
        **os.environ,
        "SOFNO_DATA_DIR": str(tmp_path),
        "SOFNO_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SOFNO_QUEUE_URL": "memory://",
        "DJANGO_SETTINGS_MODULE": "sofno.settings",
    }
    migrated.sqlite(tmp_path / "db.sqlite3")
    workers = [
        subprocess.Popen([sys.executable, "-c", HAMMER], env=env, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr.decode()
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        assert db.execute("SELECT count FROM ops_ratecounter").fetchall() == [(200,)]
