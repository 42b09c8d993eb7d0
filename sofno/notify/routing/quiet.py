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
- every decision carries a reason (a code of ``notify.reasons`` and its parameters),
  put into words in the reader's language on the delivery.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from sofno.core.windows import WeeklyWindows
from sofno.notify import reasons


class QuietAction(models.TextChoices):
    DEFER = "defer", _("Defer until the quiet hours end")
    NEXT = "next", _("Go to the next person")
    THROUGH = "through", _("Go through anyway (critical)")


@dataclass(frozen=True)
class Decision:
    """When to send, or that this person is skipped; ``code`` and ``params`` say why
    (``notify.reasons``)."""

    send_at: dt.datetime
    skip: bool = False
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def deferred(self) -> bool:
        return bool(self.code) and not self.skip and self.code != reasons.QUIET_THROUGH

    @property
    def reason(self) -> str:
        """Why, in the active language (empty when sent as planned)."""
        return reasons.describe(self.code, self.params) if self.code else ""


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
    in_quiet = quiet is not None and quiet.contains(at)
    if in_quiet and action == QuietAction.THROUGH:
        return Decision(at, code=reasons.QUIET_THROUGH, params={"person": who})
    if in_quiet and action == QuietAction.NEXT:
        return Decision(at, skip=True, code=reasons.QUIET_NEXT, params={"person": who})
    moment = at
    causes: set[str] = set()
    zone = None
    # Alternate until a moment is both outside quiet hours and inside business hours;
    # bounded, since two weekly patterns repeat within a week.
    for _round in range(16):
        moved = False
        if quiet is not None and quiet.contains(moment):
            end = quiet.next_end(moment)
            if end is None:
                break
            causes.add("quiet")
            moment, moved, zone = end, True, quiet.zone
        if business is not None and not business.contains(moment):
            start = business.next_start(moment)
            if start is None:
                break
            causes.add("business")
            moment, moved, zone = start, True, business.zone
        if not moved:
            break
    if moment == at:
        return Decision(at)
    if causes == {"quiet"}:
        code = reasons.DEFERRED_QUIET
    elif causes == {"business"}:
        code = reasons.DEFERRED_HOURS
    else:
        code = reasons.DEFERRED_QUIET_HOURS
    # Shown in the zone of the hours that last moved it: that is when it goes out.
    return Decision(
        moment, code=code, params={"person": who, "until": reasons.moment(moment, zone)}
    )
