"""Rates, windows and the Redis counter (the database counter is tested in ops)."""

import threading
import uuid

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured

from sofno.core.ratelimit import Rate, RedisCounter, consume, exceeded, fingerprint, parse_rate

# These tests share numbered databases of the one local Redis: one xdist worker runs them all.
pytestmark = pytest.mark.xdist_group("redis")

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("120/minute", Rate(120, 60)),
        ("10/s", Rate(10, 1)),
        ("1000/hour", Rate(1000, 3600)),
        ("5/15min", Rate(5, 900)),
        ("3 / 2 days", Rate(3, 172800)),
        ("off", None),
        ("0/minute", None),
        ("", None),
    ],
)
def test_it_parses_rates(text, rate):
    assert parse_rate(text, "SOFNO_X") == rate


@pytest.mark.parametrize("text", ["lots", "10/fortnight", "10/0min", "-1/minute", "1.5/s"])
def test_it_rejects_a_malformed_rate_naming_the_setting(text):
    with pytest.raises(ImproperlyConfigured, match="SOFNO_API_RATE"):
        parse_rate(text, "SOFNO_API_RATE")


def test_it_computes_fixed_windows():
    rate = Rate(5, 60)
    assert rate.window(125.5) == (120, 54.5)
    assert rate.window(120) == (120, 60)


@pytest.fixture
def redis_counter():
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:  # pragma: no cover - CI provides Redis
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    counter = RedisCounter(REDIS_URL, prefix=f"sofno-test:{uuid.uuid4().hex}:")
    yield counter
    keys = list(counter.client.scan_iter(match=counter.prefix + "*"))
    if keys:
        counter.client.delete(*keys)


def test_it_refuses_past_the_rate_until_the_next_window(redis_counter):
    rate = Rate(3, 60)
    verdicts = [consume(redis_counter, "k", rate, now=1000.0) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[-1].retry_after == 20  # the window 960..1020 ends in 20 s
    assert consume(redis_counter, "k", rate, now=1020.0).allowed
    assert consume(redis_counter, "other", rate, now=1000.0).allowed


def test_it_peeks_without_counting(redis_counter):
    rate = Rate(2, 60)
    assert exceeded(redis_counter, "k", rate, now=10.0).allowed
    consume(redis_counter, "k", rate, now=10.0)
    assert exceeded(redis_counter, "k", rate, now=10.0).allowed
    consume(redis_counter, "k", rate, now=10.0)
    verdict = exceeded(redis_counter, "k", rate, now=10.0)
    assert not verdict.allowed and verdict.count == 2
    redis_counter.reset("k")
    assert exceeded(redis_counter, "k", rate, now=10.0).allowed


def test_it_counts_every_hit_from_many_clients_at_once(redis_counter):
    # Separate connections stand in for separate web processes.
    counters = [RedisCounter(REDIS_URL, prefix=redis_counter.prefix) for _ in range(8)]

    def hammer(counter):
        for _ in range(50):
            counter.hit("shared", 0, 60)

    threads = [threading.Thread(target=hammer, args=(c,)) for c in counters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert redis_counter.peek("shared", 0) == 400
    assert 0 < redis_counter.client.ttl(redis_counter._key("shared", 0)) <= 120


def test_it_fingerprints_secrets():
    assert fingerprint("sk_abc") == fingerprint("sk_abc")
    assert fingerprint("sk_abc") != fingerprint("sk_abd")
    assert "sk_abc" not in fingerprint("sk_abc") and len(fingerprint("x")) == 32
