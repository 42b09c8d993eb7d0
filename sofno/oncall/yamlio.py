"""Moving a team's on-call data in and out as YAML.

The document has three parts, each optional on import::

    settings: {turns: ["09:00-10:15", ...], days: [mon, tue], lines: 7,
               lunch_pairs: [[2, 3]], weights: {unfilled: 1000}, time_budget: 30,
               team_message_url: "slack://..."}
    people:
      - username: giulia
        name: Giulia Rossi          # used only when --create-members creates her
        email: giulia@example.com   # likewise
        extension: "201"
        ideal_load: 8
        max_per_day: 2
        desk: help desk
        reminder: email             # turn reminders: inapp, email, sms, webpush, none
        busy: [{weekday: wed, whole_day: true, hard: true, reason: visits},
               {date: 2026-11-24, turns: [0, 1], hard: false, reason: prefers not}]
        holidays: [{start: 2026-12-24, end: 2027-01-06, reason: Christmas}]
    timetables:
      - week_start: 2026-11-23
        status: published
        turns: [...]
        days: [mon, tue]
        lines: [[7, 7], [7, 7]]
        slots: {mon: [[giulia, marco], [lucia]], tue: [...]}

Import rules:

- All or nothing: one refusal and the database is as it was. Errors name the place
  (``people[2].extension``) and, for a clash, the person it clashes with.
- A person's fields left out keep their current values (a new person starts from the
  defaults, and needs an ``extension``). ``busy`` and ``holidays``, when given (even
  ``[]``), replace that person's list; left out, the stored list stays.
- A username listed twice is refused, as is an extension held by someone else
  (after the whole document is applied: two people may swap extensions).
- Each username must be a member of the organization, unless ``create_members`` is
  set: then the people it names who are not members yet are created as agents
  without a password, with the document's ``name`` and ``email``. An existing
  member's account (name, email) is never changed by an import.
- Timetables are added.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator
from pydantic import ValidationError as PydanticValidationError

from sofno.core.access import Actor
from sofno.core.actions import create_member
from sofno.core.models import Membership
from sofno.core.usernames import sign_in_name, sign_in_name_expression
from sofno.oncall import actions
from sofno.oncall.models import (
    Assignment,
    BusyEntry,
    Holiday,
    OncallSettings,
    Person,
    Timetable,
    TimetableStatus,
)
from sofno.oncall.turns import DAY_CODES, parse_day, parse_turns


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _days(values: list) -> list[int]:
    return [parse_day(v) for v in values]


class SettingsDoc(_Strict):
    turns: list[str] | None = None
    days: list[str | int] | None = None
    lines: int | None = Field(None, ge=0, le=100)
    lunch_pairs: list[list[int]] | None = None
    weights: dict[str, int] | None = None
    time_budget: int | None = Field(None, ge=1, le=3600)
    program_queue: bool | None = None
    queue_name: str | None = Field(None, max_length=80)
    lookup_url: str | None = Field(None, max_length=200)
    max_overload: int | None = Field(None, ge=0, le=100)
    max_per_desk: int | None = Field(None, ge=1, le=100)
    no_split_days: bool | None = None
    max_empty_per_turn: int | None = Field(None, ge=0, le=100)
    closed_days: list[dt.date] | None = None

    @field_serializer("closed_days")
    def _closed_days_as_text(self, value):
        # Stored as ISO text: YAML reads an unquoted 2026-12-25 as a date.
        return None if value is None else [day.isoformat() for day in sorted(set(value))]

    team_message_url: str | None = Field(None, max_length=500)

    @field_validator("turns")
    @classmethod
    def _turns(cls, value):
        if value is not None:
            parse_turns(value)
        return value

    @field_validator("days")
    @classmethod
    def _check_days(cls, value):
        if value is not None:
            _days(value)
        return value


class BusyDoc(_Strict):
    date: dt.date | None = None
    weekday: str | int | None = None
    whole_day: bool = False
    turns: list[int] = Field(default_factory=list)
    hard: bool = True
    reason: str = Field(min_length=1, max_length=200)

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value):
        if value is not None:
            parse_day(value)
        return value


class HolidayDoc(_Strict):
    start: dt.date
    end: dt.date
    reason: str = Field("", max_length=200)


class PersonDoc(_Strict):
    # None: "left out", the stored value stays (the model's default for a new person).
    username: str = Field(min_length=1, max_length=150)
    name: str | None = Field(None, max_length=150)
    email: str | None = Field(None, max_length=254)
    extension: str | None = Field(None, pattern=r"^[0-9]+$", max_length=20)
    ideal_load: int | None = Field(None, ge=0, le=100)
    max_per_day: int | None = Field(None, ge=0, le=24)
    desk: str | None = Field(None, max_length=60)
    active: bool | None = None
    reminder: str | None = None
    busy: list[BusyDoc] | None = None
    holidays: list[HolidayDoc] | None = None

    @field_validator("extension", mode="before")
    @classmethod
    def _text(cls, value):
        return str(value) if isinstance(value, int) else value


class TimetableDoc(_Strict):
    week_start: dt.date
    status: Literal["draft", "published"] = "draft"
    turns: list[str]
    days: list[str | int]
    lines: list[list[int]]
    lunch_pairs: list[list[int]] = Field(default_factory=list)
    slots: dict[str, list[list[str]]] = Field(default_factory=dict)

    @field_validator("turns")
    @classmethod
    def _turns(cls, value):
        parse_turns(value)
        return value

    @field_validator("days")
    @classmethod
    def _check_days(cls, value):
        _days(value)
        return value


class Document(_Strict):
    settings: SettingsDoc | None = None
    people: list[PersonDoc] = Field(default_factory=list)
    timetables: list[TimetableDoc] = Field(default_factory=list)


def export_data(organization, weeks: list[dt.date] | None = None) -> dict:
    """The organization's settings, people with availability, and timetables."""
    conf = OncallSettings.for_org(organization)
    people = Person.objects.filter(organization=organization).select_related("user")
    data: dict = {
        "settings": {
            "turns": list(conf.turns),
            "days": [DAY_CODES[d] for d in conf.days],
            "lines": conf.lines,
            "lunch_pairs": [list(p) for p in conf.lunch_pairs],
            "weights": dict(conf.weights),
            "time_budget": conf.time_budget,
            "program_queue": conf.program_queue,
            "queue_name": conf.queue_name,
            "lookup_url": conf.lookup_url,
            "max_overload": conf.max_overload,
            "max_per_desk": conf.max_per_desk,
            "no_split_days": conf.no_split_days,
            "max_empty_per_turn": conf.max_empty_per_turn,
            "closed_days": list(conf.closed_days),
            "team_message_url": conf.team_message_url,
        },
        "people": [],
        "timetables": [],
    }
    for person in people:
        item = {
            "username": sign_in_name(person.user),
            "name": person.user.get_full_name(),
            "email": person.user.email,
            "extension": person.extension,
            "ideal_load": person.ideal_load,
            "max_per_day": person.max_per_day,
            "desk": person.desk,
            "active": person.active,
            "reminder": person.reminder_channel,
            "busy": [],
            "holidays": [
                {"start": h.start, "end": h.end, "reason": h.reason} for h in person.holidays.all()
            ],
        }
        for entry in person.busy_entries.all():
            busy: dict = {"hard": entry.hard, "reason": entry.reason}
            if entry.date:
                busy["date"] = entry.date
            else:
                busy["weekday"] = DAY_CODES[entry.weekday]
            if entry.whole_day:
                busy["whole_day"] = True
            else:
                busy["turns"] = list(entry.turns)
            item["busy"].append(busy)
        data["people"].append(item)
    timetables = Timetable.objects.filter(organization=organization).exclude(
        status=TimetableStatus.SUPERSEDED
    )
    if weeks is not None:
        timetables = timetables.filter(week_start__in=weeks)
    for timetable in timetables.order_by("week_start", "created_at"):
        slots = {DAY_CODES[d]: [[] for _ in timetable.turns] for d in timetable.days}
        rows = timetable.assignments.select_related("person__user").order_by(
            sign_in_name_expression("person__user__username")
        )
        for row in rows:
            code = DAY_CODES[timetable.days[row.day]]
            slots[code][row.turn].append(sign_in_name(row.person.user))
        data["timetables"].append(
            {
                "week_start": timetable.week_start,
                "status": timetable.status,
                "turns": list(timetable.turns),
                "days": [DAY_CODES[d] for d in timetable.days],
                "lines": timetable.lines,
                "lunch_pairs": timetable.lunch_pairs,
                "slots": slots,
            }
        )
    return data


def export_yaml(organization, weeks: list[dt.date] | None = None) -> str:
    return yaml.safe_dump(export_data(organization, weeks), sort_keys=False, allow_unicode=True)


def _where(loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "document"


def parse_document(text: str) -> Document:
    """Parse and check a YAML document; ``ValidationError`` names each bad place."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError({"document": [f"not valid YAML: {exc}"]}, code="yaml") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError({"document": ["the document is a mapping (settings, people, ...)"]})
    try:
        return Document.model_validate(raw)
    except PydanticValidationError as exc:
        errors: dict[str, list[str]] = {}
        for err in exc.errors():
            message = str(err["msg"]).removeprefix("Value error, ")
            errors.setdefault(_where(err["loc"]), []).append(message)
        raise ValidationError(errors, code="invalid") from None


PERSON_FIELDS = ("extension", "ideal_load", "max_per_day", "desk", "active", "reminder")
# The document's name of a field -> the model's.
MODEL_FIELD = {"reminder": "reminder_channel"}


@transaction.atomic
def import_yaml(*, acting_user: Actor, text: str, create_members: bool = False) -> dict[str, int]:
    """Load a YAML document into the actor's organization, all or nothing.

    The rules (fields left out, duplicates, clashes, new members) are in this
    module's docstring. Returns what was written: people, members created, busy
    entries, holidays, timetables.
    """
    acting_user.require_admin()
    doc = parse_document(text)
    organization = acting_user.organization
    counts = {"people": 0, "members": 0, "busy": 0, "holidays": 0, "timetables": 0}
    _refuse_duplicates(doc.people)
    if doc.settings is not None:
        fields = doc.settings.model_dump(exclude_none=True)
        if "days" in fields:
            fields["days"] = sorted(_days(fields["days"]))
        actions.update_settings(acting_user=acting_user, fields=fields)
    members = {
        sign_in_name(m.user): m.user
        for m in Membership.objects.filter(organization=organization).select_related("user")
    }
    people: dict[str, Person] = {
        sign_in_name(p.user): p
        for p in Person.objects.filter(organization=organization).select_related("user")
    }
    for index, item in enumerate(doc.people):
        if item.username not in members:
            if not create_members:
                raise ValidationError(
                    {
                        f"people[{index}].username": [
                            _(
                                "'%(username)s' is not a member (add them with sofno member "
                                "add, or import with --create-members)"
                            )
                            % {"username": item.username}
                        ]
                    }
                )
            members[item.username] = _create_member(acting_user, item, f"people[{index}]")
            counts["members"] += 1
    changed = _apply_people(organization, doc.people, people, members)
    for index, item in enumerate(doc.people):
        where = f"people[{index}]"
        person = changed[item.username]
        _clean(person, where, exclude_unique=True)
        person.save()
        people[item.username] = person
        counts["people"] += 1
        if item.busy is not None:
            person.busy_entries.all().delete()
            for b_index, busy in enumerate(item.busy):
                entry = BusyEntry(
                    person=person,
                    date=busy.date,
                    weekday=parse_day(busy.weekday) if busy.weekday is not None else None,
                    whole_day=busy.whole_day,
                    turns=busy.turns,
                    hard=busy.hard,
                    reason=busy.reason,
                )
                _clean(entry, f"{where}.busy[{b_index}]")
                entry.save()
                counts["busy"] += 1
        if item.holidays is not None:
            person.holidays.all().delete()
            for h_index, holiday in enumerate(item.holidays):
                row = Holiday(person=person, **holiday.model_dump())
                _clean(row, f"{where}.holidays[{h_index}]")
                row.save()
                counts["holidays"] += 1
    for index, item in enumerate(doc.timetables):
        _import_timetable(acting_user, item, people, f"timetables[{index}]")
        counts["timetables"] += 1
    acting_user.audit("oncall.imported", OncallSettings.for_org(organization), **counts)
    return counts


def _refuse_duplicates(items: list[PersonDoc]) -> None:
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.username in first:
            raise ValidationError(
                {
                    f"people[{index}].username": [
                        _("'%(username)s' is listed twice (also people[%(first)s])")
                        % {"username": item.username, "first": first[item.username]}
                    ]
                }
            )
        first[item.username] = index


def _create_member(actor: Actor, item: PersonDoc, where: str):
    """A new agent for ``item`` (no password: they set one before signing in)."""
    # Other organizations' members of the same name play no part (see core.usernames).
    first, _space, last = (item.name or "").strip().partition(" ")
    fields = {
        "username": item.username,
        "email": item.email or "",
        "first_name": first,
        "last_name": last.strip(),
        "role": "agent",
    }
    try:
        return create_member(acting_user=actor, fields=fields).user
    except ValidationError as exc:
        raise ValidationError(
            {f"{where}.{field}": messages for field, messages in exc.message_dict.items()}
        ) from None


def _apply_people(
    organization, items: list[PersonDoc], people: dict[str, Person], members: dict
) -> dict[str, Person]:
    """The listed people with the document's values set (unsaved), clashes refused.

    Extensions are checked on the final state (the document applied to everyone), so
    two people may swap; the one who keeps a clashing extension is named.
    """
    original = {username: person.extension for username, person in people.items()}
    changed: dict[str, Person] = {}
    for index, item in enumerate(items):
        person = people.get(item.username) or Person(
            organization=organization, user=members[item.username]
        )
        if person.pk is None and item.extension is None:
            raise ValidationError(
                {f"people[{index}].extension": [_("a new on-call person needs an extension")]}
            )
        for name in PERSON_FIELDS:
            value = getattr(item, name)
            if value is not None:
                setattr(person, MODEL_FIELD.get(name, name), value)
        changed[item.username] = person
    # Who holds each extension at the end: people the document leaves alone keep
    # theirs; among the document's people the first listed wins.
    final = {**people, **changed}
    holders: dict[str, str] = {}
    for username in [u for u in people if u not in changed] + list(changed):
        holders.setdefault(final[username].extension, username)
    for index, item in enumerate(items):
        person = changed[item.username]
        holder = holders[person.extension]
        if holder != item.username:
            other = final[holder]
            raise ValidationError(
                {
                    f"people[{index}].extension": [
                        _("extension %(extension)s is taken by %(holder)s (%(name)s)")
                        % {"extension": person.extension, "holder": holder, "name": other.name}
                    ]
                }
            )
    # Moved extensions step aside first, so a swap does not trip the unique constraint
    # half way (the transaction holds every row until the end).
    moving = [p.pk for u, p in changed.items() if p.pk is not None and original[u] != p.extension]
    for pk in moving:
        Person.objects.filter(pk=pk).update(extension=f"9{pk:019d}"[-20:])
    return changed


def _clean(instance, where: str, *, exclude_unique: bool = False) -> None:
    doc_name = {model: doc for doc, model in MODEL_FIELD.items()}
    try:
        # Extension clashes were checked on the whole document, naming the other person.
        instance.full_clean(validate_constraints=not exclude_unique)
    except ValidationError as exc:
        raise ValidationError(
            {
                f"{where}.{doc_name.get(field, field)}": messages
                for field, messages in exc.message_dict.items()
            }
        ) from None


def _import_timetable(actor: Actor, item: TimetableDoc, people: dict, where: str) -> None:
    days = _days(item.days)
    if item.week_start.weekday() != 0:
        raise ValidationError({f"{where}.week_start": ["a week starts on a Monday"]})
    if len(item.lines) != len(days) or any(len(row) != len(item.turns) for row in item.lines):
        raise ValidationError({f"{where}.lines": ["one row per day, one number per turn"]})
    timetable = Timetable.objects.create(
        organization=actor.organization,
        week_start=item.week_start,
        turns=item.turns,
        days=days,
        lines=item.lines,
        lunch_pairs=item.lunch_pairs,
        created_by=actor.user,
        report={"status": "imported"},
    )
    rows = []
    for code, turns in item.slots.items():
        day = parse_day(code)
        if day not in days:
            raise ValidationError({f"{where}.slots.{code}": ["not one of the timetable's days"]})
        if len(turns) > len(item.turns):
            raise ValidationError({f"{where}.slots.{code}": ["more turns than the timetable"]})
        for turn, usernames in enumerate(turns):
            if len(set(usernames)) != len(usernames):
                raise ValidationError(
                    {f"{where}.slots.{code}": ["a person holds one line per turn at most"]}
                )
            for username in usernames:
                if username not in people:
                    raise ValidationError(
                        {f"{where}.slots.{code}": [f"{username!r} is not an on-call person"]}
                    )
                rows.append(
                    Assignment(
                        timetable=timetable,
                        day=days.index(day),
                        turn=turn,
                        person=people[username],
                    )
                )
    Assignment.objects.bulk_create(rows)
    if item.status == "published":
        actions.publish(acting_user=actor, timetable=timetable)


__all__ = ["export_yaml", "import_yaml", "parse_document"]
