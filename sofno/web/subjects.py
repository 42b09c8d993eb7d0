"""What an event is about, for people: ``device:<uuid>`` becomes the device's name,
linked to its page (event log, event detail)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sofno.core.access import Actor
from sofno.directory.selectors import customers_for
from sofno.monitoring.selectors import devices_for, incidents_for
from sofno.tickets.selectors import tickets_for


@dataclass(frozen=True)
class Subject:
    """A subject in words: the object's name and page, or what it was (``url`` None)."""

    label: str
    url: str | None = None


def _kinds() -> dict[str, tuple[Callable, str, Callable, object]]:
    # Imported late: the selectors pull in every app's models.

    return {
        "device": (devices_for, "web:device-detail", lambda d: d.name, _("a deleted device")),
        "customer": (
            customers_for,
            "web:customer-detail",
            lambda c: c.name,
            _("a deleted customer"),
        ),
        "incident": (
            incidents_for,
            "web:incident-detail",
            lambda i: i.title,
            _("a deleted incident"),
        ),
        "ticket": (
            tickets_for,
            "web:ticket-detail",
            lambda t: f"#{t.number} {t.title}",
            _("a deleted ticket"),
        ),
    }


def describe_subjects(actor: Actor, subjects: Iterable[str]) -> dict[str, Subject]:
    """Each of ``subjects`` the actor may see, named and linked; one query per kind.

    - ``kind:<public id>`` of a device, customer, incident or ticket: its name and page
      (only within what the actor may see: another organization's reads as deleted).
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
        selector, route, name, gone = kinds[kind]
        for found in selector(actor).filter(public_id__in=list(ids)):
            answer[ids.pop(found.public_id)] = Subject(
                str(name(found)), reverse(route, args=[found.public_id])
            )
        for subject in ids.values():
            answer[subject] = Subject(str(gone))
    return answer
