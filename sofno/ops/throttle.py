"""Abuse limits: API and event-posting rates per caller, and login throttling.

Rules:
- Every API call counts against ``SOFNO_API_RATE`` for its caller (a live API key,
  else a live session, else the client IP); ``POST /api/v1/events`` also counts
  against the tighter ``SOFNO_EVENT_RATE``. Over the limit: 429 with ``Retry-After``.
- A key or session cookie that matches nothing is a failed authentication: it counts
  for the client IP (never a counter per made-up token) and against
  ``SOFNO_API_AUTH_FAILURES``; once that is used up, the address's failing calls
  answer 429 while live keys from it keep working.
- Failed sign-ins are counted per username and client IP together
  (``SOFNO_LOGIN_USER_FAILURES``) and per client IP (``SOFNO_LOGIN_IP_FAILURES``);
  while either is used up, sign-in from there is refused with a clear message, even
  with the right password. A stranger elsewhere therefore cannot lock the owner out.
- Failures of one username from everywhere (``SOFNO_LOGIN_USER_GLOBAL_FAILURES``,
  higher) only slow: while used up, each address may try that username once every
  ``SOFNO_LOGIN_PACE_SECONDS``. A successful sign-in clears the username's count
  for its own address only.
- Counters are shared by every process: Redis when ``SOFNO_CACHE_URL`` is set, else
  the database (:class:`~sofno.ops.models.RateCounter`, one upsert per hit).
"""

from __future__ import annotations

import time
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sofno.core.models import ApiKey
from sofno.core.net import client_ip
from sofno.core.ratelimit import (
    Counter,
    Rate,
    RedisCounter,
    Verdict,
    consume,
    exceeded,
    fingerprint,
)
from sofno.core.usernames import sign_in_name
from sofno.ops.models import RateCounter

# Rows are kept this long after their window started; no configured window is longer.
KEEP_SECONDS = 2 * 86400


class DbCounter:
    """Counters in the ``RateCounter`` table, incremented by one atomic upsert."""

    def hit(self, bucket: str, window_start: int, seconds: int) -> int:
        table = connection.ops.quote_name(RateCounter._meta.db_table)
        sql = (
            f"INSERT INTO {table} (bucket, window_start, count) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (bucket, window_start) DO UPDATE SET count = {table}.count + 1 "
            "RETURNING count"
        )
        # INSERT ... ON CONFLICT DO UPDATE ... RETURNING is one atomic statement on both
        # PostgreSQL and SQLite (3.35+): two processes never lose each other's hits.
        # Only the table name (from our model, quoted) is formatted in; values are bound.
        with connection.cursor() as cursor:
            cursor.execute(sql, [bucket, window_start])
            return int(cursor.fetchone()[0])

    def peek(self, bucket: str, window_start: int) -> int:
        row = (
            RateCounter.objects.filter(bucket=bucket, window_start=window_start)
            .values_list("count", flat=True)
            .first()
        )
        return row or 0

    def reset(self, bucket: str) -> None:
        RateCounter.objects.filter(bucket=bucket).delete()


@lru_cache(maxsize=4)
def _redis(url: str) -> RedisCounter:
    return RedisCounter(url)


def counter() -> Counter:
    """The shared counter store for this configuration."""
    url = getattr(settings, "CACHE_URL", "")
    return _redis(url) if url else DbCounter()


def prune(now: float | None = None) -> int:
    """Delete counter rows whose window is long over; returns how many."""
    cutoff = int((time.time() if now is None else now) - KEEP_SECONDS)
    deleted, _ = RateCounter.objects.filter(window_start__lt=cutoff).delete()
    return deleted


# ---------------------------------------------------------------- API


def _address(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def _session_exists(session_key: str) -> bool:
    from importlib import import_module

    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore().exists(session_key)


def api_caller(request: HttpRequest) -> tuple[str, bool]:
    """Who an API request counts against, and whether its credentials failed.

    - a live API key: the key; a live session: the session;
    - a key or session that matches nothing (made up, revoked, expired): the client
      IP, flagged as a failed authentication;
    - no credentials: the client IP.
    """
    auth = request.headers.get("authorization", "")
    scheme, _sep, token = auth.partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        if ApiKey.find(token) is not None:
            return "key:" + fingerprint(token), False
        return "ip:" + _address(request), True
    session = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session:
        if _session_exists(session):
            return "session:" + fingerprint(session), False
        return "ip:" + _address(request), True
    return "ip:" + _address(request), False


def is_event_post(request: HttpRequest) -> bool:
    """``POST /api/v1/events``: the event-posting endpoint with its own tighter limit."""
    return request.method == "POST" and request.path.rstrip("/") == "/api/v1/events"


def check_api(request: HttpRequest) -> tuple[str, Verdict] | None:
    """Count this API call; the limit's name and verdict when it is refused, else ``None``."""
    store = counter()
    caller, failed = api_caller(request)
    limits: list[tuple[str, Rate | None]] = [("api", settings.API_RATE)]
    if failed:
        limits.insert(0, ("auth", settings.API_AUTH_FAILURE_RATE))
    if is_event_post(request):
        limits.append(("events", settings.EVENT_RATE))
    for name, rate in limits:
        if rate is None:
            continue
        verdict = consume(store, f"{name}:{caller}", rate)
        if not verdict.allowed:
            return name, verdict
    return None


# ---------------------------------------------------------------- login


class LoginThrottled(ValidationError):
    """Sign-in refused while an account or address has too many recent failures.

    A :class:`ValidationError`, so Django's ``AuthenticationForm`` (the login page,
    the admin) shows its message as the form's error.
    """


def _login_buckets(username: str | None, ip: str | None) -> list[tuple[str, Rate | None, str]]:
    """The failure counters one sign-in attempt touches, as (bucket, rate, kind).

    - ``user``: this username from this address; locks that pair when used up, so a
      stranger elsewhere cannot lock the owner out;
    - ``global``: this username from everywhere; when used up it only slows (see
      :func:`check_login`);
    - ``ip``: this address, whatever the usernames; locks the address.
    """
    address = ip or "unknown"
    buckets = []
    if username:
        name = username.strip().lower()
        pair = fingerprint(f"{name}|{address}")
        buckets.append(("login-user-ip:" + pair, settings.LOGIN_USER_RATE, "user"))
        buckets.append(
            ("login-user:" + fingerprint(name), settings.LOGIN_USER_GLOBAL_RATE, "global")
        )
    if ip:
        buckets.append(("login-ip:" + fingerprint(ip), settings.LOGIN_IP_RATE, "ip"))
    return buckets


def _minutes(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def _seconds(seconds: int) -> str:
    return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}


def _pace(store: Counter, username: str, ip: str | None) -> None:
    """While an account's failures from everywhere are used up: one attempt for it per
    address every ``LOGIN_PACE_SECONDS``, so guessing from many addresses is slow and
    the owner, from their own address, still gets in."""
    seconds = max(1, int(settings.LOGIN_PACE_SECONDS))
    pair = fingerprint(f"{username.strip().lower()}|{ip or 'unknown'}")
    verdict = consume(store, "login-pace:" + pair, Rate(1, seconds))
    if not verdict.allowed:
        message = _("Many failed sign-ins for this account; wait %(wait)s between attempts.") % {
            "wait": _seconds(seconds)
        }
        raise LoginThrottled(message, code="login_throttled")  # the login page shows these


def check_login(request: HttpRequest | None, username: str | None) -> None:
    """Raise :class:`LoginThrottled` while this username (from this address) or this
    address is locked out, or while the username is being paced."""
    store = counter()
    ip = client_ip(request) if request is not None else None
    for bucket, rate, kind in _login_buckets(username, ip):
        if rate is None:
            continue
        verdict = exceeded(store, bucket, rate)
        if verdict.allowed:
            continue
        if kind == "global":
            _pace(store, username or "", ip)
            continue
        wait = _minutes(verdict.retry_after)
        if kind == "user":
            message = _("Too many failed sign-ins for this account. Try again in %(wait)s.") % {
                "wait": wait
            }
        else:
            message = _("Too many failed sign-ins from your network. Try again in %(wait)s.") % {
                "wait": wait
            }
        raise LoginThrottled(message, code="login_throttled")


def record_login_failure(sender, credentials: dict, request: HttpRequest | None = None, **kw):
    """``user_login_failed`` receiver: count the failure for the username (from this
    address and from everywhere) and for the address."""
    store = counter()
    ip = client_ip(request) if request is not None else None
    for bucket, rate, _kind in _login_buckets(credentials.get("username"), ip):
        if rate is not None:
            consume(store, bucket, rate)


def clear_login_failures(sender, request: HttpRequest | None = None, user=None, **kw) -> None:
    """``user_logged_in`` receiver: a right password clears the username's failures from
    this address (not those from everywhere: one good sign-in must not reset a guesser
    elsewhere). The count is keyed by the name typed, which is the sign-in name."""
    if user is None:
        return
    ip = client_ip(request) if request is not None else None
    for bucket, _rate, kind in _login_buckets(sign_in_name(user), ip):
        if kind == "user":
            counter().reset(bucket)


class LoginThrottleBackend:
    """Listed first in ``AUTHENTICATION_BACKENDS``: refuses sign-in while locked out.

    - It never authenticates anyone itself (``None`` hands over to the next backend).
    - It has no ``get_user`` on purpose: Django (and ``Client.force_login``) then never
      records it as the backend of a session.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, **kw):
        check_login(request, username)
        return None
