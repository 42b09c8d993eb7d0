"""Turn reminders: ``oncall.turn_started`` once at the start of each published turn.

The worker's ``oncall.turn_reminders`` loop calls :func:`tick`. For every
organization whose published timetable has a turn running now, it records one
``oncall.turn_started`` event naming the turn's people. Who hears about it, and how,
is notify's business (its managed turn rules, ``sofno.notify.rules.turn_rules``): each
person on the channel they chose, and the team's chat room if one is configured.

Exactly once per turn, however many workers tick: the event carries the turn as its
idempotency key, and the events table allows one event per key and organization, so
the insert is the claim (the loser's savepoint rolls back and nothing is sent twice).
A worker that was down at the turn's start announces it late, while the turn runs.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sofno.core.models import Organization
from sofno.core.usernames import sign_in_name
from sofno.events.catalog import EventType, Token
from sofno.events.emit import emit
from sofno.events.models import Event
from sofno.oncall.models import Timetable, TimetableStatus
from sofno.oncall.selectors import CurrentTurn, turn_at

log = logging.getLogger(__name__)

TURN_STARTED = "oncall.turn_started"

TURN_STARTED_TYPE = EventType(
    TURN_STARTED,
    _("A phone turn started: its people are on the phones now."),
    tokens=(
        Token(
            "people", "string", _("who is on the phones, by name"), "Giulia Rossi, Marco Bianchi"
        ),
        Token("turn", "string", _("the turn's hours"), "09:00-10:15"),
        Token("date", "string", _("the day (organization's time)"), "2026-11-23"),
        Token("time", "string", _("the turn's start (organization's time)"), "09:00"),
        Token("timetable_id", "string", _("the published timetable's id")),
        Token("team", "object", _("each person: username, name, extension, reminder channel")),
    ),
    category="oncall",
)


def claim_key(turn: CurrentTurn) -> str:
    """The idempotency key of one turn's announcement (one per turn start)."""
    return f"sofno:{TURN_STARTED}:{turn.start.isoformat()}"


def turn_payload(turn: CurrentTurn, people: list) -> dict:
    """The event's data: the tokens above."""
    return {
        "people": ", ".join(person.name for person in people),
        "turn": str(turn.timetable.turns[turn.turn]),
        "date": turn.start.date().isoformat(),
        "time": turn.start.strftime("%H:%M"),
        "timetable_id": str(turn.timetable.public_id),
        "team": [
            {
                "username": sign_in_name(person.user),
                "name": person.name,
                "extension": person.extension,
                "reminder": person.reminder_channel,
            }
            for person in people
        ],
    }


def announce(organization: Organization, moment: dt.datetime) -> Event | None:
    """Record ``oncall.turn_started`` for the turn running at ``moment``, once.

    ``None`` when no published turn runs then, when it has nobody, or when it was
    announced already (by this worker or another).
    """
    turn = turn_at(organization, moment)
    if turn is None:
        return None
    key = claim_key(turn)
    if Event.objects.filter(organization=organization, idempotency_key=key).exists():
        return None  # the common case on every tick after the first
    people = turn.people()
    if not people:
        return None
    try:
        with transaction.atomic():
            return emit(
                organization,
                TURN_STARTED,
                subject=f"turn:{turn.start.isoformat()}",
                data=turn_payload(turn, people),
                occurred_at=turn.start,
                idempotency_key=key,
            )
    except IntegrityError:
        return None  # another worker claimed this turn first


def tick(now: dt.datetime | None = None) -> int:
    """Announce every organization's running turn; returns how many were announced."""
    now = now or timezone.now()
    # Wall-clock weeks differ by at most a day from UTC's: a window of days is enough.
    organization_ids = (
        Timetable.objects.filter(
            status=TimetableStatus.PUBLISHED,
            week_start__gte=now.date() - dt.timedelta(days=7),
            week_start__lte=now.date() + dt.timedelta(days=1),
        )
        .values_list("organization_id", flat=True)
        .distinct()
    )
    announced = 0
    for organization in Organization.objects.filter(pk__in=list(organization_ids)):
        try:
            if announce(organization, now) is not None:
                announced += 1
        except Exception:  # one organization's bad data must not starve the others
            log.exception("turn reminder failed for %s", organization.slug)
    return announced
