"""Check-ins: parsing, rate limiting, and the transactional (Django) path.

The lean ASGI route in :mod:`sofno.monitoring.fastpath` answers most check-ins of
online devices with one batched statement; every other case (unknown key, inactive,
first check-in, recovery, pending commands) comes here.

Rules of a check-in:
- an unknown key answers 401; an inactive device or customer 403 with the
  customer's refusal message (nothing is stored);
- more than ``SOFNO_CHECKIN_RATE`` check-ins from one device answer 429;
- a body over ``SOFNO_CHECKIN_MAX_BODY`` answers 413; a body that is not strict JSON
  (no NaN or Infinity), not an object, or holds a fact its column cannot store
  answers 422 naming the field and rule, before it joins any batch;
- otherwise the check-in is stored by the rules of :mod:`.checkin_rules`, the
  device's deadline moves, and the answer carries the next expected check-in and
  any pending commands.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from sofno.core.models import hash_secret
from sofno.core.ratelimit import LocalCounter, Rate, consume
from sofno.monitoring import checkin_rules, conf
from sofno.monitoring.actions import come_online_many
from sofno.monitoring.checkin_rules import FACTS, FACTS_BY_NAME, MAX_NUMBER
from sofno.monitoring.commands import deliver_pending
from sofno.monitoring.geo import locate
from sofno.monitoring.models import CheckIn, Device, DeviceStatus

log = logging.getLogger(__name__)


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


# Stands for NaN, Infinity or a number too big for a float while a body is parsed,
# so the check that refuses it can name the fact it was given for.
_NOT_FINITE = object()


def parse_facts(raw: bytes) -> dict[str, Any] | None:
    """The known facts in a JSON body (``None`` for an empty body).

    Rules (each broken one is a :class:`BadCheckin` naming the field and rule):
    - strict JSON: ``NaN``, ``Infinity`` and numbers beyond a float (``1e400``) are
      refused, as is nesting too deep for the parser;
    - the body is one JSON object; only the facts of ``checkin_rules.FACTS`` are
      kept (see :func:`clean_facts`).
    """
    if not raw.strip():
        return None
    not_finite: list[str] = []

    def constant(text: str) -> object:
        not_finite.append(text)
        return _NOT_FINITE

    def number(text: str) -> object:
        value = float(text)
        return value if math.isfinite(value) else constant(text)

    try:
        data = json.loads(raw, parse_constant=constant, parse_float=number)
    except RecursionError:
        raise BadCheckin("body", "json_depth", "the body nests too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise BadCheckin("body", "json_invalid", "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise BadCheckin("body", "object_type", "the body must be a JSON object")
    if not_finite:
        named = next((name for name in FACTS_BY_NAME if data.get(name) is _NOT_FINITE), "body")
        raise BadCheckin(named, "finite", "NaN, Infinity and numbers that large are not allowed")
    return clean_facts(data)


def clean_facts(data: dict[str, Any]) -> dict[str, Any]:
    """The known facts of ``data``, checked (``BadCheckin`` names a bad one).

    - text: at most the fact's length (its column's), no NUL, no lone surrogate;
    - numbers: finite, not negative, at most ``MAX_NUMBER``; ``true``/``false`` are
      not numbers;
    - ``null`` and unknown keys are dropped.
    """
    facts: dict[str, Any] = {}
    for fact in FACTS:
        value = data.get(fact.name)
        if value is None:
            continue
        name = fact.name
        if fact.text:
            if not isinstance(value, str):
                raise BadCheckin(name, "type", f"{name} must be text")
            if len(value) > fact.max_length:
                raise BadCheckin(name, "max_length", f"{name} is longer than {fact.max_length}")
            if "\x00" in value or not _encodable(value):
                raise BadCheckin(
                    name, "characters", f"{name} must not hold NUL or unpaired surrogates"
                )
        else:
            if value is _NOT_FINITE or (isinstance(value, float) and not math.isfinite(value)):
                raise BadCheckin(name, "finite", f"{name} must be a finite number")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise BadCheckin(name, "type", f"{name} must be a number")
            if value < 0:
                raise BadCheckin(name, "ge", f"{name} must not be negative")
            if value > MAX_NUMBER:
                raise BadCheckin(name, "le", f"{name} must be at most {MAX_NUMBER}")
        facts[name] = value
    return facts


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def clean_ip(ip: str | None) -> str | None:
    """``ip`` when it is an IP address (what the history's ``inet`` column takes)."""
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


class RateLimiter:
    """At most ``SOFNO_CHECKIN_RATE`` check-ins per device, counted in this process.

    Core's fixed-window rate (:func:`sofno.core.ratelimit.consume`) on an in-process
    counter: a check-in never waits on a shared store. Each server process counts on
    its own, so with N processes a device may get up to N times the rate through; it
    still stops a runaway loop.
    """

    def __init__(self, rate: Rate | str | None = "setting") -> None:
        self.rate = conf.checkin_rate() if rate == "setting" else rate
        self.counter = LocalCounter()

    def allow(self, key_hash: str) -> bool:
        """Count one check-in; False when the device is over its rate."""
        if self.rate is None:
            return True
        return consume(self.counter, key_hash, self.rate).allowed


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
# A check-in that passed every rule here and still broke one of the database's.
UNSTORABLE = Answer(
    422,
    BadCheckin("body", "storable", "the database refused to store this check-in").body(),
)


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
        changed += checkin_rules.apply_fact_columns(device, facts)
        device.facts = checkin_rules.merged_facts(device.facts, facts)
        changed.append("facts")
    return changed


def record_history(device: Device, at: dt.datetime, ip: str | None, facts: dict | None) -> None:
    """Count one check-in of a locked device and store it in its history ring
    (the Django half of the batched statement's upsert)."""
    device.checkins_seen += 1
    size = checkin_rules.history_size()
    CheckIn.objects.bulk_create(
        [
            CheckIn(
                device=device,
                slot=checkin_rules.slot_of(device.checkins_seen, size),
                seq=device.checkins_seen,
                at=at,
                ip=ip,
                facts=facts or None,
            )
        ],
        update_conflicts=True,
        unique_fields=["device", "slot"],
        update_fields=["seq", "at", "ip", "facts"],
    )


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
    at = at or timezone.now()
    ip = clean_ip(ip)
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
            # The recovery path the batches take, with a batch of one: the device is
            # locked above, so it cannot be left to another transaction.
            if device.status != DeviceStatus.ONLINE and come_online_many([key_hash], at):
                device.status, device.status_changed_at = DeviceStatus.ONLINE, at
            changed = _apply_facts(device, ip, facts)
            device.last_checkin_at = at
            device.alert_after = device.deadline_from(at)
            record_history(device, at, ip, facts)
            device.save(update_fields=["last_checkin_at", "alert_after", "checkins_seen", *changed])
        commands = deliver_pending(device, at) if device.pending_commands else []
        return ok_answer(
            str(device.public_id), device.effective_interval, device.alert_after, at, commands
        )


def recover_many(
    key_hashes: list[str], at: dt.datetime | None = None, *, stored: bool = False
) -> dict[str, Answer]:
    """Bring the batch's returning devices back online in one transaction (the fast
    path's recovery, :func:`actions.come_online_many`; ``stored``: their check-ins
    are stored already); returns the answers of the check-ins that end here: unknown
    keys (401), inactive devices or customers (403).

    Every other check-in is to be stored as an ordinary one: its device is online now
    (brought back here or by another transaction), or another transaction holds it
    (whose commit the batched statement then waits for).
    """
    at = at or timezone.now()
    with transaction.atomic():
        returning = come_online_many(list(dict.fromkeys(key_hashes)), at, stored=stored)
        back = {d.key_hash for d in returning}
    # The rest: unknown, refused, or online already (stored check-ins were answered).
    rest = [] if stored else [k for k in key_hashes if k not in back]
    answers: dict[str, Answer] = {}
    if not rest:
        return answers
    known = Device.objects.filter(key_hash__in=rest).values_list(
        "key_hash", "active", "customer__active", "customer__refusal_message"
    )
    found = set()
    for key_hash, active, customer_active, refusal in known:
        found.add(key_hash)
        if not (active and customer_active):
            answers[key_hash] = Answer(403, {"code": "refused", "message": refusal})
    for key_hash in rest:
        if key_hash not in found:
            answers[key_hash] = UNKNOWN
    return answers


def handle_many(items: list[tuple[str, str | None, dict | None]]) -> list[Answer]:
    """Several check-ins (``(key_hash, ip, facts)``) in one transaction (SQLite path).

    The returning devices among them come back online together first (a few
    statements for the batch, :func:`actions.come_online_many`); then each check-in
    runs in a savepoint of its own: a row the database refuses fails alone.
    """
    at = timezone.now()
    answers = []
    with transaction.atomic():
        try:
            with transaction.atomic():
                come_online_many(list(dict.fromkeys(k for k, _ip, _f in items)), at)
        except DatabaseError:  # then each comes back on its own, below
            log.exception("batched recovery failed")
        for key_hash, ip, facts in items:
            try:
                answers.append(handle_hashed(key_hash, ip, facts, at))
            except DatabaseError:  # one bad row must not fail its neighbours' check-ins
                log.exception("check-in refused by the database")
                answers.append(UNSTORABLE)
            except Exception:
                log.exception("check-in failed")
                answers.append(FAILED)
    return answers
