"""Check-ins: parsing, rate limiting, and the transactional (Django) path.

The lean ASGI route in :mod:`sofno.monitoring.fastpath` answers most check-ins of
online devices with one batched statement; every other case (unknown key, inactive,
first check-in, recovery, pending commands) comes here.

Rules of a check-in:
- an unknown key answers 401; an inactive device or customer 403 with the
  customer's refusal message (nothing is stored);
- more than ``SOFNO_CHECKIN_RATE`` check-ins a minute from one device answer 429;
- a body over ``SOFNO_CHECKIN_MAX_BODY`` answers 413; a body that is not a JSON
  object of known facts answers 422 naming the field;
- otherwise the check-in is stored, the device's deadline moves, and the answer
  carries the next expected check-in and any pending commands.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from sofno.core.models import hash_secret
from sofno.monitoring import conf
from sofno.monitoring.geo import locate
from sofno.monitoring.models import CheckIn, Device, DeviceStatus

log = logging.getLogger(__name__)

# Known system facts and their types; anything else in a body is ignored.
FACTS: dict[str, tuple[type, ...]] = {
    "hostname": (str,),
    "os_version": (str,),
    "uptime": (int, float),
    "disk_free": (int, float),
    "agent_version": (str,),
}
MAX_FACT_TEXT = 200


class BadCheckin(Exception):
    """A check-in body that breaks a rule (422)."""

    def __init__(self, field_name: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.field, self.rule, self.message = field_name, rule, message

    def body(self) -> dict[str, Any]:
        return {
            "code": "validation_error",
            "message": f"{self.field}: {self.message}",
            "errors": [{"field": self.field, "rule": self.rule, "message": self.message}],
        }


def parse_facts(raw: bytes) -> dict[str, Any] | None:
    """The known facts in a JSON body (``None`` for an empty body)."""
    if not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadCheckin("body", "json_invalid", "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise BadCheckin("body", "object_type", "the body must be a JSON object")
    return clean_facts(data)


def clean_facts(data: dict[str, Any]) -> dict[str, Any]:
    """The known facts of ``data``, type-checked (``BadCheckin`` names a bad one)."""
    facts: dict[str, Any] = {}
    for name, types in FACTS.items():
        if name not in data or data[name] is None:
            continue
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, types):
            kind = "text" if types == (str,) else "a number"
            raise BadCheckin(name, "type", f"{name} must be {kind}")
        if isinstance(value, str) and len(value) > MAX_FACT_TEXT:
            raise BadCheckin(name, "max_length", f"{name} is longer than {MAX_FACT_TEXT}")
        if not isinstance(value, str) and value < 0:
            raise BadCheckin(name, "ge", f"{name} must not be negative")
        facts[name] = value
    return facts


class RateLimiter:
    """At most ``limit`` check-ins per device per minute, in this process.

    Each server process counts on its own, so with N processes a device may get up
    to N times the limit through; it still stops a runaway loop.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit if limit is not None else conf.rate_per_minute()
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()
        self._last_prune = time.monotonic()

    def allow(self, key_hash: str) -> bool:
        """Count one check-in; False when the device is over its limit."""
        if self.limit <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            start, count = self._windows.get(key_hash, (now, 0))
            if now - start >= 60:
                start, count = now, 0
            count += 1
            self._windows[key_hash] = (start, count)
            if now - self._last_prune > 120:
                self._prune(now)
            return count <= self.limit

    def _prune(self, now: float) -> None:
        self._windows = {k: v for k, v in self._windows.items() if now - v[0] < 60}
        self._last_prune = now


def too_large(request) -> bool:
    """Whether a Django request's body is over the check-in limit (read at most once,
    and never when the declared length already says so)."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > conf.max_body():
        return True
    return len(request.body) > conf.max_body()


# The limiter of the Django views (the ASGI fast path keeps its own).
django_limiter = RateLimiter()


@dataclass
class Answer:
    """What a check-in answers: an HTTP status and a JSON body."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)
    # The body already encoded, when the hot path built it from shared parts.
    raw: bytes | None = None

    def encoded(self) -> bytes:
        return self.raw if self.raw is not None else json.dumps(self.body).encode()


UNKNOWN = Answer(401, {"code": "unauthorized", "message": "Unknown device key."})
RATE_LIMITED = Answer(
    429, {"code": "rate_limited", "message": "This device checks in too often; slow down."}
)
FAILED = Answer(500, {"code": "error", "message": "The check-in could not be stored."})
TOO_LARGE = Answer(413, {"code": "too_large", "message": "The check-in body is too large."})


def ok_answer(
    device_public_id: str,
    interval: int,
    deadline: dt.datetime,
    at: dt.datetime,
    commands: list[dict],
) -> Answer:
    """The 200 answer: when to check in next and what to run."""
    return Answer(
        200,
        {
            "status": "ok",
            "device": device_public_id,
            "next_checkin_in": interval,
            "next_checkin_at": (at + dt.timedelta(seconds=interval)).isoformat(),
            "deadline": deadline.isoformat(),
            "commands": commands,
        },
    )


def _apply_facts(device: Device, ip: str | None, facts: dict | None) -> list[str]:
    changed = []
    if ip and ip != device.last_ip:
        place = locate(ip)
        device.last_ip = ip
        device.country, device.city = place.country, place.city
        device.latitude, device.longitude = place.latitude, place.longitude
        device.local_network = place.local_network
        changed += ["last_ip", "country", "city", "latitude", "longitude", "local_network"]
    if facts:
        version = facts.get("agent_version")
        if version and version != device.agent_version:
            device.agent_version = version
            changed.append("agent_version")
        device.facts = {**(device.facts or {}), **facts}
        changed.append("facts")
    return changed


def handle(key: str, ip: str | None, facts: dict | None, at: dt.datetime | None = None) -> Answer:
    """One check-in through the transactional path (any device state)."""
    if not key:
        return UNKNOWN
    return handle_hashed(hash_secret(key), ip, facts, at)


def handle_hashed(
    key_hash: str,
    ip: str | None,
    facts: dict | None,
    at: dt.datetime | None = None,
    stored: bool = False,
) -> Answer:
    """Like :func:`handle` with the key already hashed.

    ``stored=True`` means the fast path already recorded this check-in and only the
    pending commands are wanted.
    """
    from sofno.monitoring.actions import come_online
    from sofno.monitoring.commands import deliver_pending

    at = at or timezone.now()
    with transaction.atomic():
        device = (
            Device.objects.select_for_update(of=("self",))
            .select_related("customer", "organization")
            .filter(key_hash=key_hash)
            .first()
        )
        if device is None:
            return UNKNOWN
        if not device.active or not device.customer.active:
            return Answer(403, {"code": "refused", "message": device.customer.refusal_message})
        if not stored:
            if device.status != DeviceStatus.ONLINE:
                come_online(device, at)
            changed = _apply_facts(device, ip, facts)
            device.last_checkin_at = at
            device.alert_after = device.deadline_from(at)
            device.save(update_fields=["last_checkin_at", "alert_after", *changed])
            CheckIn.objects.create(device=device, at=at, ip=ip)
        commands = deliver_pending(device, at) if device.pending_commands else []
        return ok_answer(
            str(device.public_id), device.effective_interval, device.alert_after, at, commands
        )


def handle_many(items: list[tuple[str, str | None, dict | None]]) -> list[Answer]:
    """Several check-ins (``(key_hash, ip, facts)``) in one transaction (SQLite path)."""
    at = timezone.now()
    answers = []
    with transaction.atomic():
        for key_hash, ip, facts in items:
            try:
                answers.append(handle_hashed(key_hash, ip, facts, at))
            except Exception:  # one bad row must not fail its neighbours' check-ins
                log.exception("check-in failed")
                answers.append(FAILED)
    return answers
