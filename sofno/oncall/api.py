"""On-call endpoints under /api/v1: people, availability, timetables, calls."""

import datetime as dt
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from sofno.core.access import get_scoped_or_404
from sofno.core.api import ERRORS, actor, field_error
from sofno.oncall import actions
from sofno.oncall.callinfo import caller_info
from sofno.oncall.models import BusyEntry, Call, Holiday, OncallSettings, Person, Timetable
from sofno.oncall.schemas import (
    BusyIn,
    BusyOut,
    CallOut,
    CallPatch,
    DraftIn,
    EditIn,
    HolidayIn,
    HolidayOut,
    OnCallOut,
    PersonIn,
    PersonOut,
    PersonPatch,
    RingingIn,
    SettingsOut,
    SettingsPatch,
    TimetableOut,
    TimetableSummary,
)
from sofno.oncall.selectors import timetable_data, turn_at

router = Router(tags=["oncall"])


def _people(request: HttpRequest):
    return (
        Person.objects.filter(organization=actor(request).organization)
        .prefetch_related("busy_entries", "holidays")
        .select_related("user")
    )


def _person(request: HttpRequest, person_id: UUID) -> Person:
    return get_scoped_or_404(_people(request), actor(request), public_id=person_id)


@router.get("/oncall/people", response=list[PersonOut])
def list_people(request: HttpRequest):
    """Everyone who takes phone turns, with their busy entries and holidays."""
    return list(_people(request))


@router.post("/oncall/people", response={201: PersonOut, **ERRORS})
def create_person(request: HttpRequest, payload: PersonIn):
    who = actor(request)
    who.require_write()
    user = actions.resolve_member(who, payload.member)
    fields = payload.dict(exclude={"member"})
    person = actions.create_person(acting_user=who, user=user, fields=fields)
    return Status(201, _person(request, person.public_id))


@router.get("/oncall/people/{person_id}", response={200: PersonOut, **ERRORS})
def get_person(request: HttpRequest, person_id: UUID):
    return _person(request, person_id)


@router.patch("/oncall/people/{person_id}", response={200: PersonOut, **ERRORS})
def update_person(request: HttpRequest, person_id: UUID, payload: PersonPatch):
    person = _person(request, person_id)
    actions.update_person(
        acting_user=actor(request), person=person, fields=payload.dict(exclude_unset=True)
    )
    return _person(request, person_id)


@router.delete("/oncall/people/{person_id}", response={204: None, **ERRORS})
def delete_person(request: HttpRequest, person_id: UUID):
    actions.delete_person(acting_user=actor(request), person=_person(request, person_id))
    return Status(204, None)


@router.post("/oncall/people/{person_id}/busy", response={201: BusyOut, **ERRORS})
def add_busy(request: HttpRequest, person_id: UUID, payload: BusyIn):
    """A busy entry: a date or a weekday; the whole day or listed turns; hard or soft."""
    person = _person(request, person_id)
    entry = actions.add_busy(acting_user=actor(request), person=person, fields=payload.fields())
    return Status(201, entry)


@router.delete("/oncall/busy/{busy_id}", response={204: None, **ERRORS})
def remove_busy(request: HttpRequest, busy_id: UUID):
    who = actor(request)
    actions.remove_busy(acting_user=who, entry=_scoped_child(BusyEntry, who, busy_id))
    return Status(204, None)


@router.post("/oncall/people/{person_id}/holidays", response={201: HolidayOut, **ERRORS})
def add_holiday(request: HttpRequest, person_id: UUID, payload: HolidayIn):
    person = _person(request, person_id)
    holiday = actions.add_holiday(acting_user=actor(request), person=person, fields=payload.dict())
    return Status(201, holiday)


@router.delete("/oncall/holidays/{holiday_id}", response={204: None, **ERRORS})
def remove_holiday(request: HttpRequest, holiday_id: UUID):
    who = actor(request)
    actions.remove_holiday(acting_user=who, holiday=_scoped_child(Holiday, who, holiday_id))
    return Status(204, None)


def _scoped_child(model, who, public_id: UUID):
    from django.http import Http404

    found = (
        model.objects.select_related("person")
        .filter(person__organization=who.organization, public_id=public_id)
        .first()
    )
    if found is None:
        raise Http404(model._meta.verbose_name)
    return found


def _timetable(request: HttpRequest, timetable_id: UUID) -> Timetable:
    who = actor(request)
    return get_scoped_or_404(
        Timetable.objects.select_related("organization"), who, public_id=timetable_id
    )


@router.get("/oncall/timetables", response=list[TimetableSummary])
def list_timetables(request: HttpRequest):
    """The organization's timetables, newest week first."""
    return list(Timetable.objects.filter(organization=actor(request).organization)[:100])


@router.post("/oncall/timetables", response={201: TimetableOut, **ERRORS})
def create_draft(request: HttpRequest, payload: DraftIn):
    """Solve the week holding ``week`` and keep the result as a draft."""
    timetable = actions.generate_draft(
        acting_user=actor(request), week=payload.week, time_limit=payload.time_limit
    )
    return Status(201, timetable_data(timetable))


@router.get("/oncall/timetables/{timetable_id}", response={200: TimetableOut, **ERRORS})
def get_timetable(request: HttpRequest, timetable_id: UUID):
    return timetable_data(_timetable(request, timetable_id))


@router.post("/oncall/timetables/{timetable_id}/publish", response={200: TimetableOut, **ERRORS})
def publish(request: HttpRequest, timetable_id: UUID):
    """Make a draft the week's current timetable."""
    timetable = actions.publish(
        acting_user=actor(request), timetable=_timetable(request, timetable_id)
    )
    return timetable_data(timetable)


@router.post("/oncall/timetables/{timetable_id}/edits", response={201: TimetableOut, **ERRORS})
def edit_timetable(request: HttpRequest, timetable_id: UUID, payload: EditIn):
    """Swap, replace, add or remove a line; the answer's warnings list broken rules."""
    who = actor(request)
    timetable = _timetable(request, timetable_id)
    common = {"acting_user": who, "timetable": timetable, "reason": payload.reason}
    if payload.kind == "swap":
        actions.swap(
            **common,
            first=(payload.first.person, payload.first.day, payload.first.turn),
            second=(payload.second.person, payload.second.day, payload.second.turn),
        )
    elif payload.kind == "replace":
        actions.replace(
            **common,
            day=payload.day,
            turn=payload.turn,
            old_person=payload.person,
            new_person=payload.new_person,
        )
    elif payload.kind == "add_line":
        actions.add_line(**common, day=payload.day, turn=payload.turn, person=payload.person)
    else:
        actions.remove_line(**common, day=payload.day, turn=payload.turn, person=payload.person)
    timetable.refresh_from_db()
    return Status(201, timetable_data(timetable))


@router.get("/oncall/now", response={200: OnCallOut, **ERRORS})
def on_call_now(request: HttpRequest, at: dt.datetime | None = None):
    """Who staffs the phones at ``at`` (default: now) by the published timetable."""
    moment = at or timezone.now()
    if timezone.is_naive(moment):
        raise field_error("at", "timezone", "give a timezone offset, e.g. 2026-11-23T09:30Z")
    current = turn_at(actor(request).organization, moment)
    if current is None:
        return {"at": moment, "turn": None, "people": []}
    people = [
        {"id": p.public_id, "name": p.name, "extension": p.extension} for p in current.people()
    ]
    return {"at": moment, "turn": current.timetable.turns[current.turn], "people": people}


@router.get("/callinfo", response={200: dict, **ERRORS})
def callinfo(request: HttpRequest, phone: str):
    """The customers, contacts, devices, incidents and tickets behind a caller's number."""
    try:
        return caller_info(actor(request), phone)
    except ValueError as exc:
        raise field_error("phone", "phone", str(exc)) from None


@router.post("/calls/ringing", response={201: CallOut, **ERRORS})
def ringing(request: HttpRequest, payload: RingingIn):
    """The phone system reports a call ringing at an extension: log it and pop it up."""
    call = actions.ringing(
        acting_user=actor(request), phone=payload.phone, extension=payload.extension
    )
    return Status(201, call)


@router.get("/calls", response=list[CallOut])
def list_calls(request: HttpRequest):
    """The newest 100 calls."""
    return list(
        Call.objects.filter(organization=actor(request).organization).select_related("taken_by")[
            :100
        ]
    )


@router.patch("/calls/{call_id}", response={200: CallOut, **ERRORS})
def note_call(request: HttpRequest, call_id: UUID, payload: CallPatch):
    who = actor(request)
    call = get_scoped_or_404(Call.objects.select_related("taken_by"), who, public_id=call_id)
    return actions.set_call_note(acting_user=who, call=call, note=payload.note)


@router.get("/oncall/settings", response={200: SettingsOut, **ERRORS})
def get_settings(request: HttpRequest):
    """Turns, days, lines, lunch rule, penalty weights, phone queue and caller lookup."""
    return OncallSettings.for_org(actor(request).organization)


@router.patch("/oncall/settings", response={200: SettingsOut, **ERRORS})
def update_settings(request: HttpRequest, payload: SettingsPatch):
    """Change the settings (administrators); the next draft uses them."""
    return actions.update_settings(
        acting_user=actor(request), fields=payload.dict(exclude_unset=True)
    )
