"""Monitoring settings, read from ``SOFNO_*`` environment variables.

- ``SOFNO_CHECKIN_MAX_BODY`` (bytes, default 65536): larger check-in bodies get 413.
- ``SOFNO_CHECKIN_RATE`` (default ``60/minute``; a bare number is per minute, ``off``
  disables it): check-ins one device may make (per server process) before it gets 429.
- ``SOFNO_CHECKIN_BATCH`` (default 2000): the most check-ins written in one commit.
- ``SOFNO_CHECKIN_WRITERS`` (default 2): batches each server process writes at once
  (PostgreSQL; one database connection each).
- ``SOFNO_CHECKIN_HISTORY`` (default 20, at most 50): the latest check-ins kept per
  device (its history ring).
- ``SOFNO_ALERT_GROUP_WAIT`` (seconds, default 30): how long a new incident of a
  customer that still has computers online waits before its ``incident.alert``, so
  that siblings going silent too join one site incident (Alertmanager's group_wait).
- ``SOFNO_OUTAGE_SHARE`` (percent, default 30), ``SOFNO_OUTAGE_CUSTOMERS`` (default 5),
  ``SOFNO_OUTAGE_WINDOW`` (seconds, default 120): that share of an organization's
  online computers, of at least that many customers, going silent within the window
  means we suspect our own outage.
- ``SOFNO_SWEEPER_DOWNTIME`` (seconds, default 60): a sweeper that last ran longer
  ago than this means the server was down; deadlines that passed meanwhile get a
  fresh interval before anyone is alerted.
- ``SOFNO_COMMAND_SIGNING_KEY``: base64 of the 32-byte Ed25519 seed that signs remote
  commands; generated once into the data directory when unset. Every server of one
  installation must share it (agents pin its public key at enrollment).
- ``SOFNO_GEOIP_DB``: a MaxMind-format ``.mmdb`` file for city-level locations.
- ``SOFNO_MAP_TILE_URL``: the map's tile URL template.
"""

from __future__ import annotations

import base64
import functools
import secrets

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from sofno.core.env import env_int, env_str
from sofno.core.ratelimit import Rate, parse_rate


def max_body() -> int:
    return env_int("SOFNO_CHECKIN_MAX_BODY", 64 * 1024)


def checkin_rate() -> Rate | None:
    """The per-device check-in rate (core's :class:`Rate`), ``None`` when off."""
    text = env_str("SOFNO_CHECKIN_RATE", "60/minute").strip()
    return parse_rate(f"{text}/minute" if text.isdigit() else text, "SOFNO_CHECKIN_RATE")


def batch_size() -> int:
    return env_int("SOFNO_CHECKIN_BATCH", 2000)


def writers() -> int:
    return max(1, env_int("SOFNO_CHECKIN_WRITERS", 2))


MAX_HISTORY = 50


def history_size() -> int:
    size = env_int("SOFNO_CHECKIN_HISTORY", 20)
    if not 1 <= size <= MAX_HISTORY:
        raise ImproperlyConfigured(f"SOFNO_CHECKIN_HISTORY must be 1 to {MAX_HISTORY}, got {size}")
    return size


def group_wait() -> int:
    return env_int("SOFNO_ALERT_GROUP_WAIT", 30)


def outage_share() -> int:
    return env_int("SOFNO_OUTAGE_SHARE", 30)


def outage_customers() -> int:
    return env_int("SOFNO_OUTAGE_CUSTOMERS", 5)


def outage_window() -> int:
    return env_int("SOFNO_OUTAGE_WINDOW", 120)


def sweeper_downtime() -> int:
    return env_int("SOFNO_SWEEPER_DOWNTIME", 60)


def geoip_db() -> str:
    return env_str("SOFNO_GEOIP_DB")


def map_tile_url() -> str:
    return env_str("SOFNO_MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")


@functools.cache
def signing_seed() -> bytes:
    """The 32-byte Ed25519 seed that signs remote commands."""
    configured = env_str("SOFNO_COMMAND_SIGNING_KEY")
    if configured:
        try:
            seed = base64.b64decode(configured, validate=True)
        except ValueError:
            seed = b""
        if len(seed) != 32:
            raise ImproperlyConfigured(
                "SOFNO_COMMAND_SIGNING_KEY must be the base64 of 32 bytes (an Ed25519 seed)"
            )
        return seed
    keyfile = settings.DATA_DIR / "command_signing_key"
    if not keyfile.exists():
        keyfile.touch(mode=0o600)
        keyfile.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
    return base64.b64decode(keyfile.read_text().strip())
