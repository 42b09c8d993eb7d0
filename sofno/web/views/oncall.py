"""On-call pages: the week's timetable, people and availability, the phone queue,
calls with the caller's information popping up live, and YAML import/export."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from sofno.core.access import PermissionDenied as RoleDenied
from sofno.core.access import get_scoped_or_404
from sofno.core.models import Membership
from sofno.oncall import actions, yamlio
from sofno.oncall.callinfo import caller_info
from sofno.oncall.explain import describe_break, describe_status
from sofno.oncall.models import (
    BusyEntry,
    Call,
    Holiday,
    OncallSettings,
    Person,
    QueueProgram,
    Timetable,
    TimetableStatus,
)
from sofno.oncall.planning import monday_of
from sofno.oncall.selectors import timetable_data, turn_at
from sofno.oncall.solver import Weights
from sofno.oncall.telephony import TelephonyError, provider_for
from sofno.oncall.turns import DAY_CODES
from sofno.web.access import require_actor, require_writer, same_site_next
from sofno.web.callinfo_words import readable

# The fields the on-call actions name in their errors, as the forms call them.
FIELD_LABELS = {
    "first": gettext_lazy("Person"),
    "second": gettext_lazy("Other / new person"),
    "person": gettext_lazy("Person"),
    "old_person": gettext_lazy("Person"),
    "new_person": gettext_lazy("Other / new person"),
    "other_person": gettext_lazy("Other / new person"),
    "day": gettext_lazy("Day"),
    "other_day": gettext_lazy("Their day"),
    "turn": gettext_lazy("Turn"),
    "other_turn": gettext_lazy("Their turn"),
    "reason": gettext_lazy("Reason"),
    "kind": gettext_lazy("Change"),
    "extension": gettext_lazy("Extension"),
    "phone": gettext_lazy("Phone"),
    "note": gettext_lazy("Note"),
    "turns": gettext_lazy("Turns"),
    "date": gettext_lazy("Date"),
    "start": gettext_lazy("First day"),
    "end": gettext_lazy("Last day"),
    "member": gettext_lazy("Member"),
    "desk": gettext_lazy("Desk / team"),
    "ideal_load": gettext_lazy("Ideal weekly load"),
    "max_per_day": gettext_lazy("Max turns a day"),
    "lines": gettext_lazy("Lines per turn"),
    "lunch_pairs": gettext_lazy("Lunch rule (turn pairs, from 0)"),
    "queue_name": gettext_lazy("Queue name"),
    "lookup_url": gettext_lazy("Caller lookup URL (called with ?phone=)"),
    "status": gettext_lazy("Status"),
    "closed_days": gettext_lazy("Organization holidays (nobody scheduled)"),
    "max_per_desk": gettext_lazy("People of one desk per turn"),
    "max_empty_per_turn": gettext_lazy("Empty lines per turn"),
    "max_overload": gettext_lazy("Turns above the ideal load"),
    "time_budget": gettext_lazy("Solver time budget (s)"),
    "team_message_url": gettext_lazy("Team message at each turn (Apprise URL)"),
}


def _field_prefix(field: str) -> str:
    """``"Reason: "`` for a field the form shows; a place in imported YAML
    (``people[0].extension``) as it is, since it points into the reader's own text;
    nothing for an internal name."""
    if field in FIELD_LABELS:
        return f"{FIELD_LABELS[field]}: "
    if "[" in field or "." in field:
        return f"{field}: "
    return ""


def _problem(request: HttpRequest, exc: ValidationError) -> None:
    """Show each broken rule with the field it concerns, named as on the form (a
    field the form does not show: the message alone, never the internal name)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            label = _field_prefix(field)
            for message in errors:
                messages.error(request, f"{label}{message}")
    else:
        for message in exc.messages:
            messages.error(request, message)


def _int(request: HttpRequest, name: str) -> int:
    raw = request.POST.get(name, "")
    try:
        return int(raw)
    except ValueError:
        raise ValidationError({name: gettext("choose a value")}) from None


def _date(raw: str, name: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({name: gettext("enter a date like 2026-11-23")}) from None


# ---------------------------------------------------------------- timetable


# Colour-blind-safe hues (Okabe and Ito's palette, then darker and lighter kin), each
# with the text colour that reads on it.
PERSON_COLOURS = (
    ("#0072B2", "#fff"),
    ("#E69F00", "#000"),
    ("#009E73", "#fff"),
    ("#CC79A7", "#000"),
    ("#56B4E9", "#000"),
    ("#D55E00", "#fff"),
    ("#F0E442", "#000"),
    ("#6A3D9A", "#fff"),
    ("#1B9E77", "#000"),
    ("#8C564B", "#fff"),
    ("#A6CEE3", "#000"),
    ("#444444", "#fff"),
)


def person_colours(rows: list[dict]) -> list[dict]:
    """Give each person of the week's grid a colour of their own (in name order, so
    a team of up to twelve never shares one) and return the legend; each person's
    entry in the cells gets ``colour`` and ``ink`` (its text colour)."""
    names = sorted({p["name"] for row in rows for cell in row["cells"] for p in cell["people"]})
    legend = {name: PERSON_COLOURS[n % len(PERSON_COLOURS)] for n, name in enumerate(names)}
    for row in rows:
        for cell in row["cells"]:
            for person in cell["people"]:
                person["colour"], person["ink"] = legend[person["name"]]
    return [{"name": name, "colour": c, "ink": ink} for name, (c, ink) in legend.items()]


@login_required
@require_GET
def timetable_page(request: HttpRequest, public_id: UUID | None = None) -> HttpResponse:
    """A week: the published timetable (or the newest draft), with its report."""
    actor = require_actor(request)
    organization = actor.organization
    if public_id is not None:
        timetable = get_scoped_or_404(Timetable.objects.all(), actor, public_id=public_id)
        week = timetable.week_start
    else:
        try:
            week = monday_of(_date(request.GET.get("week", ""), "week") or timezone.localdate())
        except ValidationError:
            week = monday_of(timezone.localdate())
        same_week = Timetable.objects.filter(organization=organization, week_start=week)
        timetable = (
            same_week.filter(status=TimetableStatus.PUBLISHED).first()
            or same_week.filter(status=TimetableStatus.DRAFT).order_by("-created_at").first()
        )
    data = timetable_data(timetable) if timetable else None
    rows = []
    if data:
        for t, label in enumerate(data["turns"]):
            cells = []
            for d in range(len(data["days"])):
                people = data["grid"][d][t]
                cells.append(
                    {
                        "day": d,
                        "people": people,
                        "lines": data["lines"][d][t],
                        "empty": max(0, data["lines"][d][t] - len(people)),
                    }
                )
            rows.append({"turn": t, "label": label, "cells": cells})
    colours = person_colours(rows)
    people = Person.objects.filter(organization=organization).select_related("user")
    context = {
        "week": week,
        "previous_week": week - dt.timedelta(days=7),
        "next_week": week + dt.timedelta(days=7),
        "timetable": timetable,
        "data": data,
        "rows": rows,
        "colours": colours,
        "people": people,
        "people_parts": sorted(
            (data["report"].get("people") or {}).values(), key=lambda p: p.get("name", "")
        )
        if data
        else [],
        "others": Timetable.objects.filter(organization=organization, week_start=week),
        "now": turn_at(organization, timezone.now()),
    }
    return render(request, "web/oncall/timetable.html", context)


@login_required
@require_POST
def generate(request: HttpRequest) -> HttpResponse:
    """The "make a draft" button: solve the week within the time budget."""
    actor = require_writer(request)
    try:
        week = _date(request.POST.get("week", ""), "week") or timezone.localdate()
        timetable = actions.generate_draft(acting_user=actor, week=week)
    except ValidationError as exc:
        _problem(request, exc)
        return redirect(reverse("web:oncall-timetable"))
    messages.success(
        request,
        gettext("Draft ready: %(status)s.")
        % {"status": describe_status(timetable.report["status"], timetable.report.get("gap"))},
    )
    return redirect("web:oncall-timetable-detail", public_id=timetable.public_id)


@login_required
@require_POST
def publish(request: HttpRequest, public_id: UUID) -> HttpResponse:
    actor = require_writer(request)
    timetable = get_scoped_or_404(Timetable.objects.all(), actor, public_id=public_id)
    try:
        actions.publish(acting_user=actor, timetable=timetable)
        messages.success(request, gettext("Published: this week's timetable is now current."))
    except ValidationError as exc:
        _problem(request, exc)
    return redirect("web:oncall-timetable-detail", public_id=timetable.public_id)


@login_required
@require_POST
def edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Swap, replace, add or remove a line; warn when the edit breaks a rule."""
    actor = require_writer(request)
    timetable = get_scoped_or_404(Timetable.objects.all(), actor, public_id=public_id)
    kind = request.POST.get("kind", "")
    reason = request.POST.get("reason", "")
    common = {"acting_user": actor, "timetable": timetable, "reason": reason}
    try:
        if kind == "swap":
            record = actions.swap(
                **common,
                first=(request.POST.get("person"), _int(request, "day"), _int(request, "turn")),
                second=(
                    request.POST.get("other_person"),
                    _int(request, "other_day"),
                    _int(request, "other_turn"),
                ),
            )
        elif kind == "replace":
            record = actions.replace(
                **common,
                day=_int(request, "day"),
                turn=_int(request, "turn"),
                old_person=request.POST.get("person"),
                new_person=request.POST.get("other_person"),
            )
        elif kind in ("add_line", "remove_line"):
            step = actions.add_line if kind == "add_line" else actions.remove_line
            record = step(
                **common,
                day=_int(request, "day"),
                turn=_int(request, "turn"),
                person=request.POST.get("person") or None,
            )
        else:
            raise ValidationError({"kind": gettext("choose swap, replace, add or remove a line")})
    except ValidationError as exc:
        _problem(request, exc)
    else:
        messages.success(request, gettext("Change saved."))
        for warning in record.warnings:
            messages.warning(
                request,
                gettext("This change breaks a rule: %(rule)s") % {"rule": describe_break(warning)},
            )
    return redirect("web:oncall-timetable-detail", public_id=timetable.public_id)


# ---------------------------------------------------------------- people


@login_required
def people_page(request: HttpRequest) -> HttpResponse:
    """Everyone who takes turns; add a member."""
    if request.method == "POST":
        actor = require_writer(request)
        try:
            user = actions.resolve_member(actor, request.POST.get("member") or None)
            person = actions.create_person(
                acting_user=actor, user=user, fields=_person_fields(request)
            )
        except ValidationError as exc:
            _problem(request, exc)
            return redirect("web:oncall-people")
        return redirect("web:oncall-person", public_id=person.public_id)
    if request.method != "GET":
        return HttpResponse(status=405)
    actor = require_actor(request)
    people = Person.objects.filter(organization=actor.organization).select_related("user")
    taken = people.values_list("user_id", flat=True)
    members = (
        Membership.objects.filter(organization=actor.organization)
        .exclude(user_id__in=taken)
        .select_related("user")
    )
    return render(
        request,
        "web/oncall/people.html",
        {"people": people, "members": members, "conf": OncallSettings.for_org(actor.organization)},
    )


def _person_fields(request: HttpRequest) -> dict:
    fields = {
        "extension": request.POST.get("extension", "").strip(),
        "desk": request.POST.get("desk", "").strip(),
        "active": request.POST.get("active") == "on" or "active" not in request.POST,
    }
    for name in ("ideal_load", "max_per_day"):
        if request.POST.get(name, "") != "":
            fields[name] = _int(request, name)
    if "reminder_channel" in request.POST:
        fields["reminder_channel"] = request.POST["reminder_channel"]
    return fields


@login_required
def person_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """One person: loads, extension, desk, busy entries and holidays."""
    actor = require_actor(request)
    person = get_scoped_or_404(Person.objects.select_related("user"), actor, public_id=public_id)
    if request.method == "POST":
        actor = require_writer(request)
        try:
            actions.update_person(acting_user=actor, person=person, fields=_person_fields(request))
            messages.success(request, gettext("Saved."))
        except ValidationError as exc:
            _problem(request, exc)
        return redirect("web:oncall-person", public_id=person.public_id)
    if request.method != "GET":
        return HttpResponse(status=405)
    conf = OncallSettings.for_org(actor.organization)
    return render(
        request,
        "web/oncall/person.html",
        {
            "person": person,
            "busy": person.busy_entries.all(),
            "holidays": person.holidays.all(),
            "turns": list(enumerate(conf.turns)),
            "weekdays": list(enumerate(DAY_CODES)),
            "feed_url": request.build_absolute_uri(
                reverse("oncall-feed", args=[person.feed_token])
            ),
        },
    )


@login_required
@require_POST
def add_busy(request: HttpRequest, public_id: UUID) -> HttpResponse:
    actor = require_writer(request)
    person = get_scoped_or_404(Person.objects.all(), actor, public_id=public_id)
    try:
        weekday = request.POST.get("weekday", "")
        fields = {
            "date": _date(request.POST.get("date", ""), "date"),
            "weekday": int(weekday) if weekday.isdigit() else None,
            "whole_day": request.POST.get("whole_day") == "on",
            "turns": [int(t) for t in request.POST.getlist("turns") if t.isdigit()],
            "hard": request.POST.get("hard") == "on",
            "reason": request.POST.get("reason", "").strip(),
        }
        actions.add_busy(acting_user=actor, person=person, fields=fields)
        messages.success(request, gettext("Busy entry added."))
    except ValidationError as exc:
        _problem(request, exc)
    return redirect("web:oncall-person", public_id=person.public_id)


@login_required
@require_POST
def remove_busy(request: HttpRequest, public_id: UUID) -> HttpResponse:
    actor = require_writer(request)
    entry = BusyEntry.objects.filter(
        person__organization=actor.organization, public_id=public_id
    ).first()
    if entry is None:
        return HttpResponse(status=404)
    actions.remove_busy(acting_user=actor, entry=entry)
    return redirect("web:oncall-person", public_id=entry.person.public_id)


@login_required
@require_POST
def add_holiday(request: HttpRequest, public_id: UUID) -> HttpResponse:
    actor = require_writer(request)
    person = get_scoped_or_404(Person.objects.all(), actor, public_id=public_id)
    try:
        fields = {
            "start": _date(request.POST.get("start", ""), "start"),
            "end": _date(request.POST.get("end", ""), "end"),
            "reason": request.POST.get("reason", "").strip(),
        }
        actions.add_holiday(acting_user=actor, person=person, fields=fields)
        messages.success(request, gettext("Holiday added."))
    except ValidationError as exc:
        _problem(request, exc)
    return redirect("web:oncall-person", public_id=person.public_id)


@login_required
@require_POST
def remove_holiday(request: HttpRequest, public_id: UUID) -> HttpResponse:
    actor = require_writer(request)
    holiday = Holiday.objects.filter(
        person__organization=actor.organization, public_id=public_id
    ).first()
    if holiday is None:
        return HttpResponse(status=404)
    actions.remove_holiday(acting_user=actor, holiday=holiday)
    return redirect("web:oncall-person", public_id=holiday.person.public_id)


# ---------------------------------------------------------------- queue


@login_required
def queue_page(request: HttpRequest) -> HttpResponse:
    """The phone queue now: members, pause/resume, add a line during service."""
    if request.method == "POST":
        actor = require_writer(request)
        provider = provider_for(OncallSettings.for_org(actor.organization).queue_name)
        action = request.POST.get("action", "")
        extension = request.POST.get("extension", "").strip()
        try:
            if provider is None:
                raise TelephonyError(gettext("No phone system is configured (SOFNO_AMI_HOST)."))
            if not extension.isdigit():
                raise ValidationError({"extension": gettext("an extension is digits only")})
            if action == "add":
                person = Person.objects.filter(
                    organization=actor.organization, extension=extension
                ).first()
                provider.add(extension, person.name if person else "")
            elif action in ("pause", "resume"):
                provider.pause(extension, action == "pause", request.POST.get("reason", ""))
            elif action == "remove":
                provider.remove(extension)
            else:
                raise ValidationError({"action": gettext("choose add, pause, resume or remove")})
            actor.audit(
                f"oncall.queue.{action}",
                OncallSettings.for_org(actor.organization),
                extension=extension,
            )
            done = {
                "add": gettext("Extension %(ext)s added to the queue."),
                "pause": gettext("Extension %(ext)s paused."),
                "resume": gettext("Extension %(ext)s back in the queue."),
                "remove": gettext("Extension %(ext)s removed from the queue."),
            }
            messages.success(request, done[action] % {"ext": extension})
        except ValidationError as exc:
            _problem(request, exc)
        except TelephonyError as exc:
            messages.error(request, str(exc))
        finally:
            if provider is not None:
                provider.close()
        return redirect("web:oncall-queue")
    if request.method != "GET":
        return HttpResponse(status=405)
    actor = require_actor(request)
    conf = OncallSettings.for_org(actor.organization)
    provider = provider_for(conf.queue_name)
    members, problem = [], ""
    if provider is not None:
        try:
            members = provider.members()
        except TelephonyError as exc:
            problem = str(exc)
        finally:
            provider.close()
    names = {
        p.extension: p.name
        for p in Person.objects.filter(organization=actor.organization).select_related("user")
    }
    current = turn_at(actor.organization, timezone.now())
    return render(
        request,
        "web/oncall/queue.html",
        {
            "configured": provider is not None,
            "members": [(m, names.get(m.extension, m.name)) for m in members],
            "problem": problem,
            "programs": QueueProgram.objects.filter(organization=actor.organization).order_by(
                "-attempted_at"
            )[:20],
            "current": current,
            "on_turn": current.people() if current else [],
        },
    )


# ---------------------------------------------------------------- calls


@login_required
@require_GET
def screen(request: HttpRequest) -> HttpResponse:
    """The agent's screen-pop: polls for calls ringing at their extension."""
    actor = require_actor(request)
    latest = Call.objects.filter(organization=actor.organization, taken_by=request.user).first()
    return render(
        request,
        "web/oncall/screen.html",
        {"after": latest.public_id if latest else "", "poll_url": reverse("web:oncall-poll")},
    )


@login_required
@require_GET
def poll(request: HttpRequest) -> JsonResponse:
    """The newest call for the signed-in agent after ``after`` (a call id), rendered."""
    actor = require_actor(request)
    calls = Call.objects.filter(organization=actor.organization, taken_by=request.user)
    after = request.GET.get("after", "")
    seen = calls.filter(public_id=after).first() if _is_uuid(after) else None
    if seen is not None:
        calls = calls.filter(Q(at__gt=seen.at) | Q(at=seen.at, pk__gt=seen.pk))
    call = calls.first()
    if call is None:
        return JsonResponse({"call": None})
    info = readable(caller_info(actor, call.phone), actor.organization)
    html = render_to_string(
        "web/oncall/_callinfo.html", {"info": info, "call": call}, request=request
    )
    return JsonResponse({"call": str(call.public_id), "html": html})


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


@login_required
def calls_page(request: HttpRequest) -> HttpResponse:
    """The call log with each call's note; look up any number."""
    actor = require_actor(request)
    if request.method == "POST":
        actor = require_writer(request)
        call = get_scoped_or_404(Call.objects.all(), actor, public_id=request.POST.get("call"))
        try:
            actions.set_call_note(acting_user=actor, call=call, note=request.POST.get("note", ""))
            messages.success(request, gettext("Note saved."))
        except ValidationError as exc:
            _problem(request, exc)
        return redirect(same_site_next(request, reverse("web:oncall-calls")))
    if request.method != "GET":
        return HttpResponse(status=405)
    phone = request.GET.get("phone", "").strip()
    info, problem = None, ""
    if phone:
        try:
            info = readable(caller_info(actor, phone), actor.organization)
        except ValueError:
            problem = gettext("Enter the number in international form, like +390612345678.")
    calls = Call.objects.filter(organization=actor.organization).select_related("taken_by")[:100]
    return render(
        request,
        "web/oncall/calls.html",
        {"calls": calls, "phone": phone, "info": info, "problem": problem},
    )


# ---------------------------------------------------------------- settings

WEIGHT_NAMES = ("unfilled", "load", "overload", "split", "soft_busy", "desk")


def _weight_labels() -> dict[str, str]:
    return {
        "unfilled": gettext("Empty line"),
        "load": gettext("Turn below target"),
        "overload": gettext("Turn above target"),
        "split": gettext("Split day"),
        "soft_busy": gettext("Prefers not"),
        "desk": gettext("Desk mate in the same turn"),
    }


def _cap(request: HttpRequest, name: str, current: int | None) -> int | None:
    """An optional whole number: empty means no cap; a field not sent keeps ``current``."""
    if name not in request.POST:
        return current
    if not request.POST[name].strip():
        return None
    return _int(request, name)


def _closed_days(request: HttpRequest, current: list[str]) -> list[str]:
    """Dates like 2026-12-25, separated by commas or spaces."""
    if "closed_days" not in request.POST:
        return list(current)
    days = []
    for raw in request.POST["closed_days"].replace(",", " ").split():
        day = _date(raw, "closed_days")
        if day.isoformat() not in days:
            days.append(day.isoformat())
    return sorted(days)


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """Turns, days, lines, lunch rule, penalty weights, phone queue, caller lookup."""
    actor = require_actor(request)
    conf = OncallSettings.for_org(actor.organization)
    if request.method == "POST":
        actor = require_writer(request)
        try:
            actor.require_admin()
        except RoleDenied:
            return HttpResponse(status=403)
        try:
            lunch = []
            for pair in request.POST.get("lunch_pairs", "").replace(" ", "").split(","):
                if pair:
                    first, sep, second = pair.partition("-")
                    if not (sep and first.isdigit() and second.isdigit()):
                        raise ValidationError({"lunch_pairs": gettext("write pairs like 2-3, 5-6")})
                    lunch.append([int(first), int(second)])
            fields = {
                "turns": [t.strip() for t in request.POST.get("turns", "").split(",") if t.strip()],
                "days": [int(d) for d in request.POST.getlist("days") if d.isdigit()],
                "lines": _int(request, "lines"),
                "lunch_pairs": lunch,
                "weights": {
                    name: _int(request, f"weight_{name}")
                    if f"weight_{name}" in request.POST
                    else Weights.from_dict(conf.weights).as_dict()[name]
                    for name in WEIGHT_NAMES
                },
                "time_budget": _int(request, "time_budget"),
                "program_queue": request.POST.get("program_queue") == "on",
                "queue_name": request.POST.get("queue_name", "").strip(),
                "lookup_url": request.POST.get("lookup_url", "").strip(),
                "max_overload": _int(request, "max_overload")
                if "max_overload" in request.POST
                else conf.max_overload,
                "max_per_desk": _cap(request, "max_per_desk", conf.max_per_desk),
                "no_split_days": request.POST.get("no_split_days") == "on",
                "max_empty_per_turn": _cap(request, "max_empty_per_turn", conf.max_empty_per_turn),
                "closed_days": _closed_days(request, conf.closed_days),
                "team_message_url": request.POST.get("team_message_url", "").strip(),
            }
            actions.update_settings(acting_user=actor, fields=fields)
            messages.success(request, gettext("Settings saved; the next draft uses them."))
        except ValidationError as exc:
            _problem(request, exc)
        return redirect("web:oncall-settings")
    if request.method != "GET":
        return HttpResponse(status=405)
    return render(
        request,
        "web/oncall/settings.html",
        {
            "conf": conf,
            "weekdays": list(enumerate(DAY_CODES)),
            "lunch": ", ".join(f"{a}-{b}" for a, b in conf.lunch_pairs),
            "weights": [
                (n, _weight_labels()[n], Weights.from_dict(conf.weights).as_dict()[n])
                for n in WEIGHT_NAMES
            ],
            "closed_days": " ".join(conf.closed_days or []),
        },
    )


# ---------------------------------------------------------------- YAML


@login_required
def yaml_page(request: HttpRequest) -> HttpResponse:
    """Export (download) or import the team's on-call data as YAML."""
    actor = require_actor(request)
    if request.method == "POST":
        actor = require_writer(request)
        upload = request.FILES.get("file")
        text = upload.read().decode("utf-8", "replace") if upload else request.POST.get("text", "")
        try:
            counts = yamlio.import_yaml(acting_user=actor, text=text)
            messages.success(
                request,
                gettext(
                    "Imported %(people)s people, %(busy)s busy entries, %(holidays)s holidays, "
                    "%(timetables)s timetables."
                )
                % counts,
            )
        except ValidationError as exc:
            _problem(request, exc)
        except RoleDenied:
            messages.error(request, gettext("Only an administrator may import."))
        return redirect("web:oncall-yaml")
    if request.method != "GET":
        return HttpResponse(status=405)
    if request.GET.get("download"):
        response = HttpResponse(
            yamlio.export_yaml(actor.organization), content_type="application/yaml; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="oncall.yaml"'
        return response
    conf = OncallSettings.for_org(actor.organization)
    return render(
        request,
        "web/oncall/yaml.html",
        {
            "team_feed": request.build_absolute_uri(
                reverse("oncall-feed", args=[conf.team_feed_token])
            )
        },
    )


patterns = [
    path("", timetable_page, name="oncall-timetable"),
    path("timetables/<uuid:public_id>/", timetable_page, name="oncall-timetable-detail"),
    path("timetables/generate/", generate, name="oncall-generate"),
    path("timetables/<uuid:public_id>/publish/", publish, name="oncall-publish"),
    path("timetables/<uuid:public_id>/edit/", edit, name="oncall-edit"),
    path("people/", people_page, name="oncall-people"),
    path("people/<uuid:public_id>/", person_page, name="oncall-person"),
    path("people/<uuid:public_id>/busy/", add_busy, name="oncall-busy-add"),
    path("busy/<uuid:public_id>/remove/", remove_busy, name="oncall-busy-remove"),
    path("people/<uuid:public_id>/holidays/", add_holiday, name="oncall-holiday-add"),
    path("holidays/<uuid:public_id>/remove/", remove_holiday, name="oncall-holiday-remove"),
    path("queue/", queue_page, name="oncall-queue"),
    path("screen/", screen, name="oncall-screen"),
    path("screen/poll/", poll, name="oncall-poll"),
    path("calls/", calls_page, name="oncall-calls"),
    path("yaml/", yaml_page, name="oncall-yaml"),
    path("settings/", settings_page, name="oncall-settings"),
]
