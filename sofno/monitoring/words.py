"""Incident titles and SOFNO's own timeline sentences, in the reader's language.

Rules:
- a timeline row SOFNO writes stores a code and its values, never a sentence
  (``IncidentEntry.params``: ``{"say": "device_up", "device": "Till 2", "left": 1,
  "total": 3}``); :func:`sentence` makes the sentence when the row is read, in the
  active language, so a Spanish reader sees Spanish whoever wrote the row;
- rows without a code (people's notes, rows written before codes) keep their stored
  ``message``;
- an incident's stored ``title`` stays English for events and notifications; pages
  show :func:`incident_title` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Site incidents list the computers that went down together; past this many
# characters the list is cut (a timeline row, not an inventory).
NAMES_LIMIT = 250


class Say:
    """The codes of SOFNO's timeline sentences (``params["say"]``)."""

    GROUP_WAIT = "group_wait"
    AUTO_RESOLVED = "auto_resolved"
    NO_CHECKIN = "no_checkin"
    ALONE = "alone"
    NONE_LEFT = "none_left"
    FLAP = "flap"
    SITE_OPENED = "site_opened"
    JOINED = "joined"
    OWN_JOINED = "own_joined"
    DEVICE_DOWN = "device_down"
    DEVICE_UP = "device_up"
    ALL_BACK = "all_back"


def say(code: str, **values: Any) -> dict[str, Any]:
    """The ``params`` of a timeline row that says ``code`` with ``values``."""
    return {"say": code, **values}


def names_of(names: list[str]) -> str:
    """Computer names for a timeline row: sorted, comma separated, cut when long."""
    text = ", ".join(sorted(names))
    return text if len(text) <= NAMES_LIMIT else text[:NAMES_LIMIT] + "…"


def device_title(device: str, customer: str) -> str:
    """``Till 2 (Café Central) is offline``."""
    return _("%(device)s (%(customer)s) is offline") % {"device": device, "customer": customer}


def site_title(customer: str, down: int, total: int) -> str:
    """``Café Central is down (4 of 4 computers offline)``."""
    return ngettext(
        "%(customer)s is down (%(down)s of %(total)s computer offline)",
        "%(customer)s is down (%(down)s of %(total)s computers offline)",
        total,
    ) % {"customer": customer, "down": down, "total": total}


def _site_opened(p: dict[str, Any]) -> str:
    return ngettext(
        "%(n)s computer offline together: %(names)s.",
        "%(n)s computers offline together: %(names)s.",
        p["n"],
    ) % {"n": p["n"], "names": p["names"]}


SENTENCES: dict[str, Callable[[dict[str, Any]], str]] = {
    Say.GROUP_WAIT: lambda p: _("The group wait is over."),
    Say.AUTO_RESOLVED: lambda p: _("Resolved automatically on recovery."),
    Say.NO_CHECKIN: lambda p: _("No check-in since the deadline."),
    Say.ALONE: lambda p: _("No other computer of this customer is online: alert now."),
    Say.NONE_LEFT: lambda p: _("No computer of this customer is left online: alert now."),
    Say.FLAP: lambda p: _("Offline again (flap %(n)s).") % {"n": p["n"]},
    Say.SITE_OPENED: _site_opened,
    Say.JOINED: lambda p: (
        _("Joined: %(title)s") % {"title": site_title(p["customer"], p["down"], p["total"])}
    ),
    Say.OWN_JOINED: lambda p: (
        _("%(device)s's own incident joined this one.") % {"device": p["device"]}
    ),
    Say.DEVICE_DOWN: lambda p: (
        _("%(device)s went offline too (%(down)s of %(total)s).")
        % {"device": p["device"], "down": p["down"], "total": p["total"]}
    ),
    Say.DEVICE_UP: lambda p: (
        _("%(device)s is back (%(left)s of %(total)s still offline).")
        % {"device": p["device"], "left": p["left"], "total": p["total"]}
    ),
    Say.ALL_BACK: lambda p: (
        _("%(device)s is back: every computer is online again.") % {"device": p["device"]}
    ),
}


def sentence(params: dict[str, Any] | None) -> str | None:
    """The sentence ``params`` say in the active language; None when they name no
    sentence this version knows (the caller falls back to the stored message)."""
    if not params:
        return None
    make = SENTENCES.get(params.get("say", ""))
    if make is None:
        return None
    try:
        return make(params)
    except (KeyError, TypeError):  # values missing: better the stored text than a 500
        return None
