"""Changes to people, availability and timetables: validated, atomic and audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from sofno.core.access import Actor
from sofno.core.modeling import apply_fields, field_error, save_audited, save_validated
from sofno.core.models import Membership
from sofno.core.validators import normalize_phone
from sofno.directory.models import Contact
from sofno.events.emit import emit
from sofno.oncall.models import (
    Assignment,
    BusyEntry,
    Call,
    EditKind,
    Holiday,
    OncallSettings,
    Person,
    Timetable,
    TimetableEdit,
    TimetableStatus,
)
from sofno.oncall.planning import build_problem, grid_of, monday_of, problem_for
from sofno.oncall.solver import Solution, evaluate, solve, violations

# ---------------------------------------------------------------- people


def resolve_member(actor: Actor, member_id) -> Any:
    """The user behind a member id of the actor's organization, or a field error."""
    membership = (
        Membership.objects.filter(organization=actor.organization, public_id=member_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise field_error("member", "unknown member id", "unknown")
    return membership.user


@transaction.atomic
def create_person(*, acting_user: Actor, user, fields: dict[str, Any]) -> Person:
    """Give a member of the organization an on-call profile.

    - The extension is digits only and unique in the organization.
    """
    acting_user.require_write()
    person = Person(organization=acting_user.organization, user=user)
    apply_fields(person, fields)
    save_audited(acting_user, person, "oncall.person.created", extension=person.extension)
    return person


@transaction.atomic
def update_person(*, acting_user: Actor, person: Person, fields: dict[str, Any]) -> Person:
    """Change a person's extension, loads or desk; nothing is saved if any is invalid."""
    acting_user.require_write()
    changed = apply_fields(person, fields)
    save_audited(acting_user, person, "oncall.person.updated", fields=changed)
    return person


@transaction.atomic
def delete_person(*, acting_user: Actor, person: Person) -> None:
    acting_user.require_admin()
    acting_user.audit("oncall.person.deleted", person, extension=person.extension)
    person.delete()


def _not_past(day: dt.date | None, field: str, today: dt.date) -> None:
    if day is not None and day < today:
        raise field_error(field, f"{day.isoformat()} is in the past", "past")


@transaction.atomic
def add_busy(*, acting_user: Actor, person: Person, fields: dict[str, Any]) -> BusyEntry:
    """Add a busy entry: a date or a weekday, the whole day or listed turns.

    - A one-off date may not be in the past.
    - Turn numbers must exist in the organization's turns.
    """
    acting_user.require_write()
    entry = BusyEntry(person=person)
    apply_fields(entry, fields)
    _not_past(entry.date, "date", _today(acting_user))
    count = len(OncallSettings.for_org(acting_user.organization).turns)
    if any(isinstance(t, int) and t >= count for t in entry.turns or []):
        raise field_error("turns", f"turns are numbers from 0 to {count - 1}", "range")
    save_validated(entry)
    acting_user.audit("oncall.busy.added", person, busy=str(entry.public_id), reason=entry.reason)
    return entry


@transaction.atomic
def remove_busy(*, acting_user: Actor, entry: BusyEntry) -> None:
    acting_user.require_write()
    acting_user.audit("oncall.busy.removed", entry.person, busy=str(entry.public_id))
    entry.delete()


@transaction.atomic
def add_holiday(*, acting_user: Actor, person: Person, fields: dict[str, Any]) -> Holiday:
    """Add days off (inclusive); the first day may not be in the past."""
    acting_user.require_write()
    holiday = Holiday(person=person)
    apply_fields(holiday, fields)
    _not_past(holiday.start, "start", _today(acting_user))
    save_validated(holiday)
    acting_user.audit("oncall.holiday.added", person, start=str(holiday.start))
    return holiday


@transaction.atomic
def remove_holiday(*, acting_user: Actor, holiday: Holiday) -> None:
    acting_user.require_write()
    acting_user.audit("oncall.holiday.removed", holiday.person, start=str(holiday.start))
    holiday.delete()


def _today(actor: Actor) -> dt.date:
    from zoneinfo import ZoneInfo

    return timezone.now().astimezone(ZoneInfo(actor.organization.timezone)).date()


# ---------------------------------------------------------------- timetables


def generate_draft(
    *,
    acting_user: Actor,
    week: dt.date,
    time_limit: float | None = None,
    relative_gap: float = 0.0,
    progress: Callable[[int, float, float], None] | None = None,
) -> Timetable:
    """Solve the week holding ``week`` and store the result as a draft.

    The solve runs outside any transaction (it may take the whole time budget);
    only the storing is atomic.
    """
    acting_user.require_write()
    organization = acting_user.organization
    week_start = monday_of(week)
    conf = OncallSettings.for_org(organization)
    problem, meta = build_problem(organization, week_start)
    solution = solve(
        problem,
        time_limit=time_limit if time_limit is not None else conf.time_budget,
        relative_gap=relative_gap,
        progress=progress,
    )
    if solution.status == "infeasible":  # only the empty-line cap can contradict the rest
        raise field_error(
            "max_empty_per_turn",
            f"no timetable leaves at most {problem.max_empty} empty lines in every turn "
            "with the people available; raise the cap or clear it",
            "infeasible",
        )
    return _store_draft(acting_user, conf, week_start, problem, meta, solution)


@transaction.atomic
def _store_draft(actor: Actor, conf, week_start, problem, meta, solution: Solution) -> Timetable:
    timetable = Timetable.objects.create(
        organization=actor.organization,
        week_start=week_start,
        turns=list(conf.turns),
        days=sorted(conf.days),
        lines=problem.lines,
        lunch_pairs=[list(p) for p in problem.lunch_pairs],
        created_by=actor.user,
        report=solution_report(problem, meta, solution),
    )
    people = {str(p.public_id): p for p in Person.objects.filter(organization=actor.organization)}
    Assignment.objects.bulk_create(
        Assignment(timetable=timetable, day=d, turn=t, person=people[key])
        for d, row in enumerate(solution.grid)
        for t, keys in enumerate(row)
        for key in keys
    )
    actor.audit(
        "oncall.timetable.drafted",
        timetable,
        week=week_start.isoformat(),
        status=solution.status,
        objective=solution.objective,
    )
    return timetable


def solution_report(problem, meta: dict, solution: Solution) -> dict:
    """What the timetable page shows about how the draft was made."""
    people = {}
    for key, info in meta.items():
        parts = solution.parts.get(key, {})
        people[key] = {**info, **parts}
    scores = evaluate(problem, solution.grid)
    return {
        "status": solution.status,
        "optimal": solution.optimal,
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "seconds": solution.seconds,
        "unfilled_cost": scores["unfilled"],
        "empty_lines": solution.empty_lines,
        "unfilled": solution.unfilled,
        "summary": solution.summary,
        "fewest_empty": solution.fewest_empty,
        "rules": problem.rules(),
        "weights": problem.weights.as_dict(),
        "people": people,
    }


@transaction.atomic
def publish(*, acting_user: Actor, timetable: Timetable) -> Timetable:
    """Make a draft the week's current timetable; the previous one is superseded."""
    acting_user.require_write()
    now = timezone.now()
    Timetable.objects.filter(
        organization=timetable.organization,
        week_start=timetable.week_start,
        status=TimetableStatus.PUBLISHED,
    ).exclude(pk=timetable.pk).update(status=TimetableStatus.SUPERSEDED)
    claimed = Timetable.objects.filter(pk=timetable.pk, status=TimetableStatus.DRAFT).update(
        status=TimetableStatus.PUBLISHED, published_at=now
    )
    if not claimed:
        raise field_error("status", "only a draft can be published", "not_draft")
    timetable.refresh_from_db()
    TimetableEdit.objects.create(
        timetable=timetable, kind=EditKind.PUBLISH, reason="published", by=acting_user.user, at=now
    )
    acting_user.audit("oncall.timetable.published", timetable, week=str(timetable.week_start))
    emit(
        timetable.organization,
        "oncall.timetable.published",
        subject=f"timetable:{timetable.public_id}",
        data={"timetable_id": str(timetable.public_id), "week_start": str(timetable.week_start)},
    )
    return timetable


def _person(timetable: Timetable, person_id) -> Person:
    found = Person.objects.filter(organization=timetable.organization, public_id=person_id).first()
    if found is None:
        raise field_error("person", "unknown person id", "unknown")
    return found


def _slot(timetable: Timetable, day: int, turn: int, field: str = "day") -> None:
    if not 0 <= day < len(timetable.days):
        raise field_error(field, f"day is a number from 0 to {len(timetable.days) - 1}", "range")
    if not 0 <= turn < len(timetable.turns):
        raise field_error("turn", f"turn is a number from 0 to {len(timetable.turns) - 1}")


def _editable(timetable: Timetable, reason: str) -> None:
    if timetable.status == TimetableStatus.SUPERSEDED:
        raise field_error("status", "a superseded timetable is kept as it was")
    if not (reason or "").strip():
        raise field_error("reason", "say why (the reason is kept in the history)")


def _on(timetable: Timetable, person: Person, day: int, turn: int) -> Assignment | None:
    return Assignment.objects.filter(timetable=timetable, day=day, turn=turn, person=person).first()


def _record(
    actor: Actor, timetable: Timetable, kind: str, reason: str, detail: dict, before: list[dict]
) -> TimetableEdit:
    after = violations(problem_for(timetable), grid_of(timetable))
    new = [text for text in after if text not in before]
    edit = TimetableEdit.objects.create(
        timetable=timetable,
        kind=kind,
        reason=reason.strip(),
        detail=detail,
        warnings=new,
        by=actor.user,
    )
    actor.audit(f"oncall.timetable.{kind}", timetable, reason=reason.strip(), warnings=new)
    return edit


def _rules_now(timetable: Timetable) -> list[dict]:
    return violations(problem_for(timetable), grid_of(timetable))


@transaction.atomic
def swap(
    *,
    acting_user: Actor,
    timetable: Timetable,
    first: tuple[Any, int, int],
    second: tuple[Any, int, int],
    reason: str,
) -> TimetableEdit:
    """Swap two people's turns: each takes the other's. ``first``/``second`` are
    ``(person id, day, turn)``. The edit is kept, with the rules it now breaks."""
    acting_user.require_write()
    _editable(timetable, reason)
    (pid_a, day_a, turn_a), (pid_b, day_b, turn_b) = first, second
    _slot(timetable, day_a, turn_a)
    _slot(timetable, day_b, turn_b)
    a, b = _person(timetable, pid_a), _person(timetable, pid_b)
    row_a, row_b = _on(timetable, a, day_a, turn_a), _on(timetable, b, day_b, turn_b)
    if row_a is None:
        raise field_error("first", f"{a.name} is not on that turn", "not_on_turn")
    if row_b is None:
        raise field_error("second", f"{b.name} is not on that turn", "not_on_turn")
    if a == b or (day_a, turn_a) == (day_b, turn_b):
        raise field_error("second", "pick another person's turn", "same")
    if _on(timetable, a, day_b, turn_b) or _on(timetable, b, day_a, turn_a):
        raise field_error("second", "one of them already has the other's turn", "double")
    before = _rules_now(timetable)
    row_a.day, row_a.turn, row_b.day, row_b.turn = day_b, turn_b, day_a, turn_a
    Assignment.objects.bulk_update([row_a, row_b], ["day", "turn"])
    detail = {
        "first": {"person": a.name, "day": day_a, "turn": turn_a},
        "second": {"person": b.name, "day": day_b, "turn": turn_b},
    }
    return _record(acting_user, timetable, EditKind.SWAP, reason, detail, before)


@transaction.atomic
def replace(
    *,
    acting_user: Actor,
    timetable: Timetable,
    day: int,
    turn: int,
    old_person,
    new_person,
    reason: str,
) -> TimetableEdit:
    """Put ``new_person`` in ``old_person``'s line of one turn."""
    acting_user.require_write()
    _editable(timetable, reason)
    _slot(timetable, day, turn)
    old, new = _person(timetable, old_person), _person(timetable, new_person)
    row = _on(timetable, old, day, turn)
    if row is None:
        raise field_error("old_person", f"{old.name} is not on that turn")
    if _on(timetable, new, day, turn):
        raise field_error("new_person", f"{new.name} is already on that turn")
    before = _rules_now(timetable)
    row.person = new
    row.save(update_fields=["person"])
    detail = {"day": day, "turn": turn, "old": old.name, "new": new.name}
    return _record(acting_user, timetable, EditKind.REPLACE, reason, detail, before)


@transaction.atomic
def add_line(
    *, acting_user: Actor, timetable: Timetable, day: int, turn: int, reason: str, person=None
) -> TimetableEdit:
    """One more line in a turn, empty or staffed by ``person``."""
    acting_user.require_write()
    _editable(timetable, reason)
    _slot(timetable, day, turn)
    before = _rules_now(timetable)
    lines = [list(row) for row in timetable.lines]
    lines[day][turn] += 1
    timetable.lines = lines
    timetable.save(update_fields=["lines"])
    detail: dict[str, Any] = {"day": day, "turn": turn, "lines": lines[day][turn]}
    if person is not None:
        who = _person(timetable, person)
        if _on(timetable, who, day, turn):
            raise field_error("person", f"{who.name} is already on that turn")
        Assignment.objects.create(timetable=timetable, day=day, turn=turn, person=who)
        detail["person"] = who.name
    return _record(acting_user, timetable, EditKind.ADD_LINE, reason, detail, before)


@transaction.atomic
def remove_line(
    *, acting_user: Actor, timetable: Timetable, day: int, turn: int, reason: str, person=None
) -> TimetableEdit:
    """One line fewer in a turn; when every line is staffed, ``person`` leaves it."""
    acting_user.require_write()
    _editable(timetable, reason)
    _slot(timetable, day, turn)
    lines = [list(row) for row in timetable.lines]
    if lines[day][turn] <= 0:
        raise field_error("turn", "that turn has no line left", "no_line")
    before = _rules_now(timetable)
    staffed = Assignment.objects.filter(timetable=timetable, day=day, turn=turn)
    detail: dict[str, Any] = {"day": day, "turn": turn}
    if person is not None:
        who = _person(timetable, person)
        row = staffed.filter(person=who).first()
        if row is None:
            raise field_error("person", f"{who.name} is not on that turn")
        row.delete()
        detail["person"] = who.name
    elif staffed.count() >= lines[day][turn]:
        raise field_error(
            "person", "every line of that turn is staffed: say who leaves it", "required"
        )
    lines[day][turn] -= 1
    timetable.lines = lines
    timetable.save(update_fields=["lines"])
    detail["lines"] = lines[day][turn]
    return _record(acting_user, timetable, EditKind.REMOVE_LINE, reason, detail, before)


@transaction.atomic
def update_settings(*, acting_user: Actor, fields: dict[str, Any]) -> OncallSettings:
    """Change the organization's turns, days, lines, lunch rule, weights or lookup.

    Emits ``oncall.settings.updated`` naming the fields given (never their values:
    the team message URL may hold a chat room's token).
    """
    acting_user.require_admin()
    conf = OncallSettings.for_org(acting_user.organization)
    if isinstance(fields.get("days"), list):
        fields["days"] = sorted(fields["days"])
    changed = apply_fields(conf, fields)
    save_audited(acting_user, conf, "oncall.settings.updated", fields=changed)
    emit(
        conf.organization,
        "oncall.settings.updated",
        subject="oncall_settings",
        data={"changed": changed},
    )
    return conf


# ---------------------------------------------------------------- calls


@transaction.atomic
def ringing(*, acting_user: Actor, phone: str, extension: str):
    """Log a call ringing at ``extension`` and tell its agent's screen (by the log row).

    - ``phone`` is the caller's number in E.164 form.
    - ``extension`` belongs to a person of the organization.
    """
    acting_user.require_write()
    try:
        number = normalize_phone(phone)
    except ValueError as exc:
        raise field_error("phone", str(exc), "phone") from None
    person = (
        Person.objects.filter(organization=acting_user.organization, extension=extension)
        .select_related("user")
        .first()
    )
    if person is None:
        raise field_error(
            "extension", f"no one in the organization has extension {extension!r}", "unknown"
        )
    call = Call.objects.create(
        organization=acting_user.organization,
        phone=number,
        extension=extension,
        taken_by=person.user,
    )
    customers = sorted(
        set(
            Contact.objects.filter(organization=acting_user.organization, phone=number).values_list(
                "customer__name", flat=True
            )
        )
    )
    emit(
        acting_user.organization,
        "oncall.call.ringing",
        subject=f"call:{call.public_id}",
        data={
            "call_id": str(call.public_id),
            "phone": number,
            "extension": extension,
            "customers": customers,
        },
    )
    return call


@transaction.atomic
def set_call_note(*, acting_user: Actor, call, note: str):
    """Keep the agent's note on a call."""
    acting_user.require_write()
    call.note = note
    save_audited(acting_user, call, "oncall.call.noted", update_fields=["note"])
    return call
