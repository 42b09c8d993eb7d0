"""Fixed-window rate counting shared by every process: the pieces without a table.

Rules:
- A rate is written ``"<count>/<period>"`` (``120/minute``, ``10/second``, ``1000/hour``,
  ``5/15min``); ``off`` (or ``0``) disables a limit.
- Counting is per fixed window (``now // seconds``): cheap, one row or one Redis key
  per caller and window. A caller may burst up to twice the rate across a window
  edge; these limits are a guard against abuse, not billing.
- Counters live where every ``sofno serve`` process sees them: Redis when
  ``SOFNO_CACHE_URL`` is set (:class:`RedisCounter`), otherwise the database (the
  ops app's table).
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*$")


@dataclass(frozen=True)
class Rate:
    """At most ``count`` hits per ``seconds``."""

    count: int
    seconds: int

    def window(self, now: float) -> tuple[int, float]:
        """The current window's start (a whole number of seconds) and seconds left in it."""
        start = int(now // self.seconds) * self.seconds
        return start, start + self.seconds - now


def parse_rate(text: str, setting: str) -> Rate | None:
    """``"120/minute"`` as a :class:`Rate`; ``off``/``0`` as ``None`` (no limit).

    A malformed value is an error naming ``setting``.
    """
    value = text.strip().lower()
    if value in {"", "off", "0", "none"}:
        return None
    match = _RATE.match(value)
    unit = _UNITS.get(match.group(3)) if match else None
    if match is None or unit is None:
        raise ImproperlyConfigured(
            f"{setting} must look like 120/minute, 10/second or 5/15min, or off; got {text!r}"
        )
    count, multiple = int(match.group(1)), int(match.group(2) or 1)
    if count == 0:
        return None
    if multiple == 0:
        raise ImproperlyConfigured(f"{setting} needs a period longer than zero, got {text!r}")
    return Rate(count, unit * multiple)


def fingerprint(secret: str) -> str:
    """A short one-way digest, so counters never hold keys, usernames or cookies."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()[:32]


class Counter(Protocol):
    """Where hits are counted; every implementation is safe across processes."""

    def hit(self, bucket: str, window_start: int, seconds: int) -> int:
        """Count one hit in the window and return the window's total so far."""

    def peek(self, bucket: str, window_start: int) -> int:
        """The window's total so far, without counting."""

    def reset(self, bucket: str) -> None:
        """Forget every window of ``bucket``."""


class RedisCounter:
    """Counters as Redis keys that expire with their window (``INCR`` is atomic)."""

    def __init__(self, url: str, prefix: str = "sofno:rate:") -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.prefix = prefix

    def _key(self, bucket: str, window_start: int) -> str:
        return f"{self.prefix}{bucket}:{window_start}"

    def hit(self, bucket: str, window_start: int, seconds: int) -> int:
        key = self._key(bucket, window_start)
        pipe = self.client.pipeline()
        pipe.incr(key)
        pipe.expire(key, seconds + 60)
        count, _ = pipe.execute()
        return int(count)

    def peek(self, bucket: str, window_start: int) -> int:
        return int(self.client.get(self._key(bucket, window_start)) or 0)

    def reset(self, bucket: str) -> None:
        keys = list(self.client.scan_iter(match=f"{self.prefix}{bucket}:*", count=100))
        if keys:
            self.client.delete(*keys)


class LocalCounter:
    """Counters in this process's memory, for hot paths that must not wait on a store.

    Each process counts on its own, so with N processes a caller may get up to N times
    the rate through; that still stops a runaway loop. Windows older than the newest
    one seen are dropped as time moves on, so memory stays at one window of callers.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[int, dict[str, int]] = {}
        self._newest = 0

    def hit(self, bucket: str, window_start: int, seconds: int) -> int:
        with self._lock:
            counts = self._windows.get(window_start)
            if counts is None:
                counts = self._windows[window_start] = {}
                if window_start > self._newest:
                    self._newest = window_start
                    # Windows that ended before this one began count nothing any more.
                    for start in [s for s in self._windows if s + seconds <= window_start]:
                        del self._windows[start]
            count = counts.get(bucket, 0) + 1
            counts[bucket] = count
            return count

    def peek(self, bucket: str, window_start: int) -> int:
        with self._lock:
            return self._windows.get(window_start, {}).get(bucket, 0)

    def reset(self, bucket: str) -> None:
        with self._lock:
            for counts in self._windows.values():
                counts.pop(bucket, None)


@dataclass(frozen=True)
class Verdict:
    """The answer to one hit: allowed or not, and when to retry."""

    allowed: bool
    count: int
    retry_after: int


def consume(counter: Counter, bucket: str, rate: Rate, now: float | None = None) -> Verdict:
    """Count one hit of ``bucket`` against ``rate``; refused once the window is full."""
    moment = time.time() if now is None else now
    start, left = rate.window(moment)
    count = counter.hit(bucket, start, rate.seconds)
    return Verdict(count <= rate.count, count, max(1, math.ceil(left)))


def exceeded(counter: Counter, bucket: str, rate: Rate, now: float | None = None) -> Verdict:
    """Whether ``bucket`` has already used up ``rate`` in this window (counts nothing)."""
    moment = time.time() if now is None else now
    start, left = rate.window(moment)
    count = counter.peek(bucket, start)
    return Verdict(count < rate.count, count, max(1, math.ceil(left)))
