"""What an event is about, for people: ``device:<uuid>`` becomes the device's name,
linked to its page (event log, event detail)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sofno.core.access import Actor
from sofno.core.scoping import visible_to
from sofno.directory.selectors import contacts_for, customers_for
from sofno.monitoring.selectors import devices_for, incidents_for
from sofno.oncall.models import Call, Timetable
from sofno.tickets.selectors import tickets_for


@dataclass(frozen=True)
class Subject:
    """A subject in words: the object's name and page, or what it was (``url`` None)."""

    label: str
    url: str | None = None


def _timetables(actor: Actor) -> QuerySet[Timetable]:
    return visible_to(actor, Timetable.objects.all())


def _calls(actor: Actor) -> QuerySet[Call]:
    return visible_to(actor, Call.objects.all())


def _kinds() -> dict[str, tuple[Callable, Callable, Callable, object]]:
    """Per subject kind: the actor's rows, the page of one, its name, and what a
    missing one reads as."""

    def page(route: str) -> Callable:
        return lambda found: reverse(route, args=[found.public_id])

    return {
        "device": (devices_for, page("web:device-detail"), lambda d: d.name, _("a deleted device")),
        "customer": (
            customers_for,
            page("web:customer-detail"),
            lambda c: c.name,
            _("a deleted customer"),
        ),
        "contact": (
            contacts_for,
            lambda c: reverse("web:customer-detail", args=[c.customer.public_id]),
            lambda c: f"{c.name} ({c.customer.name})",
            _("a deleted contact"),
        ),
        "incident": (
            lambda actor: incidents_for(actor).select_related("device", "customer"),
            page("web:incident-detail"),
            lambda i: i.display_title,
            _("a deleted incident"),
        ),
        "ticket": (
            tickets_for,
            page("web:ticket-detail"),
            lambda t: f"#{t.number} {t.title}",
            _("a deleted ticket"),
        ),
        "timetable": (
            _timetables,
            page("web:oncall-timetable-detail"),
            lambda t: gettext("Week of %(day)s") % {"day": date_format(t.week_start)},
            _("a deleted timetable"),
        ),
        "call": (
            _calls,
            lambda c: reverse("web:oncall-calls") + "?" + urlencode({"phone": c.phone}),
            lambda c: gettext("Call from %(phone)s") % {"phone": c.phone},
            _("a call no longer kept"),
        ),
    }


def describe_subjects(actor: Actor, subjects: Iterable[str]) -> dict[str, Subject]:
    """Each of ``subjects`` the actor may see, named and linked; one query per kind.

    - ``kind:<public id>`` of a device, customer, contact, incident, ticket, timetable
      or call: its name and page (only within what the actor may see: another
      organization's reads as deleted).
    - Anything else (a turn, a queue slot): not in the answer; shown as it is.
    """
    kinds = _kinds()
    wanted: dict[str, dict[uuid.UUID, str]] = defaultdict(dict)
    for subject in set(subjects):
        kind, _sep, raw = (subject or "").partition(":")
        if kind not in kinds:
            continue
        try:
            wanted[kind][uuid.UUID(raw)] = subject
        except ValueError:
            continue
    answer: dict[str, Subject] = {}
    for kind, ids in wanted.items():
        selector, url, name, gone = kinds[kind]
        for found in selector(actor).filter(public_id__in=list(ids)):
            answer[ids.pop(found.public_id)] = Subject(str(name(found)), url(found))
        for subject in ids.values():
            answer[subject] = Subject(str(gone))
    return answer
