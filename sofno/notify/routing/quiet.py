"""Sane hours: when a message may reach a person, and what to do when it may not.

Rules:
- a person's quiet hours are wall-clock ranges in *their* timezone (Opsgenie does
  this; Grafana OnCall's UTC-only windows are its top complaint), so a DST change
  moves the UTC instant, never the local hours;
- a customer's business hours bound messages to that customer's contacts (and to
  staff when a rule asks for it);
- in quiet hours a rule chooses: ``defer`` until the window ends (sent at the end,
  not at the next reminder: Alertmanager's known gap), ``next`` person instead, or
  ``through`` anyway (critical);
- every decision carries a reason a person can read on the delivery.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from sofno.core.windows import WeeklyWindows


class QuietAction(models.TextChoices):
    DEFER = "defer", _("Defer until the quiet hours end")
    NEXT = "next", _("Go to the next person")
    THROUGH = "through", _("Go through anyway (critical)")


@dataclass(frozen=True)
class Decision:
    """When to send, or that this person is skipped; ``reason`` says why."""

    send_at: dt.datetime
    skip: bool = False
    reason: str = ""

    @property
    def deferred(self) -> bool:
        return bool(self.reason) and not self.skip and not self.reason.startswith("critical")


def _local(moment: dt.datetime, windows: WeeklyWindows) -> str:
    return moment.astimezone(windows.zone).strftime("%a %H:%M %Z")


def decide(
    at: dt.datetime,
    *,
    quiet: WeeklyWindows | None = None,
    business: WeeklyWindows | None = None,
    action: str = QuietAction.DEFER,
    who: str = "",
) -> Decision:
    """When a message due ``at`` may go to one recipient.

    - ``quiet``: the recipient's quiet hours (``StaffProfile.quiet()``), if any;
    - ``business``: hours the message must fall within (``Customer.hours()``), if any;
    - ``action``: what quiet hours do (:class:`QuietAction`); business hours always defer.
    """
    label = who or "the recipient"
    in_quiet = quiet is not None and quiet.contains(at)
    if in_quiet and action == QuietAction.THROUGH:
        return Decision(at, reason=f"critical: sent during {label}'s quiet hours")
    if in_quiet and action == QuietAction.NEXT:
        return Decision(at, skip=True, reason=f"{label} is in quiet hours: next person")
    moment = at
    reasons = []
    # Alternate until a moment is both outside quiet hours and inside business hours;
    # bounded, since two weekly patterns repeat within a week.
    for _round in range(16):
        moved = False
        if quiet is not None and quiet.contains(moment):
            end = quiet.next_end(moment)
            if end is None:
                break
            reasons.append(f"{label}'s quiet hours until {_local(end, quiet)}")
            moment, moved = end, True
        if business is not None and not business.contains(moment):
            start = business.next_start(moment)
            if start is None:
                break
            reasons.append(f"outside business hours until {_local(start, business)}")
            moment, moved = start, True
        if not moved:
            break
    if moment == at:
        return Decision(at)
    return Decision(moment, reason="deferred: " + "; ".join(dict.fromkeys(reasons)))
