"""Sentences for a timetable's report, in the reader's language.

The solver stores why lines stayed empty as codes with numbers (``reasons`` per
turn, ``summary`` for the week); these functions render them at display time, so
a report reads in Spanish to a Spanish reader however it was made.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from sofno.oncall.turns import DAY_LABELS

# The weekday labels a timetable stores (``DAY_LABELS``), as the reader says them.
_WEEKDAYS = {
    "Mon": lambda: pgettext("weekday", "Mon"),
    "Tue": lambda: pgettext("weekday", "Tue"),
    "Wed": lambda: pgettext("weekday", "Wed"),
    "Thu": lambda: pgettext("weekday", "Thu"),
    "Fri": lambda: pgettext("weekday", "Fri"),
    "Sat": lambda: pgettext("weekday", "Sat"),
    "Sun": lambda: pgettext("weekday", "Sun"),
}


def _reason(name: str, n: int) -> str:
    """One reason with its count, e.g. ``3 people on holiday``."""
    if name == "holiday":
        text = ngettext("%(n)s person on holiday", "%(n)s people on holiday", n)
    elif name == "busy":
        text = ngettext("%(n)s busy", "%(n)s busy", n)
    elif name == "max_per_day":
        text = ngettext(
            "%(n)s person at their maximum turns that day",
            "%(n)s people at their maximum turns that day",
            n,
        )
    elif name == "lunch":
        text = ngettext(
            "%(n)s person kept off by the lunch rule", "%(n)s people kept off by the lunch rule", n
        )
    elif name == "no_split":
        text = ngettext(
            "%(n)s person whose day would be split", "%(n)s people whose day would be split", n
        )
    elif name == "desk_cap":
        text = ngettext(
            "%(n)s person whose desk is at its cap", "%(n)s people whose desk is at its cap", n
        )
    elif name in ("maximum", "load"):  # "load": reports made before weekly maxima
        text = ngettext(
            "%(n)s person at their weekly maximum", "%(n)s people at their weekly maximum", n
        )
    else:  # "free"
        text = ngettext(
            "%(n)s person free and under their maximum (the search stopped before using them)",
            "%(n)s people free and under their maximum (the search stopped before using them)",
            n,
        )
    return text % {"n": n}


def _when(item: dict) -> str:
    day = item.get("day_label", "")
    return f"{_WEEKDAYS[day]() if day in _WEEKDAYS else day} {item.get('turn_label', '')}".strip()


def describe_gap(gap: dict) -> str:
    """``Tue 12:45-14:00: 2 of 7 lines empty: 5 people on holiday, 3 busy, ...``."""
    if "day_label" not in gap and "text" in gap:
        return gap["text"]  # a report stored before explanations were translatable
    when = _when(gap)
    parts = [_reason(name, count) for name, count in (gap.get("reasons") or {}).items() if count]
    because = ", ".join(parts) if parts else _("nobody else is on the team")
    return ngettext(
        "%(when)s: %(empty)s of %(lines)s line empty: %(because)s",
        "%(when)s: %(empty)s of %(lines)s lines empty: %(because)s",
        gap["lines"],
    ) % {"when": when, "empty": gap["empty"], "lines": gap["lines"], "because": because}


def describe_summary(item: dict) -> str:
    """One sentence of the week's picture (see ``solver.summarize``)."""
    code = item.get("code")
    if code == "targets_vs_lines":
        return _(
            "The week's targets add up to %(targets)s turns for %(lines)s lines; the "
            "weekly maxima add up to %(maxima)s and %(filled)s lines are filled."
        ) % {k: item[k] for k in ("targets", "lines", "maxima", "filled")}
    if code == "over_target":
        return ngettext(
            "%(people)s person takes turns above their target to fill lines "
            "(%(turns)s turns, overload cost %(cost)s).",
            "%(people)s people take turns above their target to fill lines "
            "(%(turns)s turns, overload cost %(cost)s).",
            item["people"],
        ) % {k: item[k] for k in ("people", "turns", "cost")}
    if code == "at_maximum":
        return ngettext(
            "%(people)s person is free during empty turns but already at their weekly maximum.",
            "%(people)s people are free during empty turns but already at their weekly maximum.",
            item["people"],
        ) % {"people": item["people"]}
    if code == "reshuffle":
        if item.get("proven"):
            text = ngettext(
                "%(lines)s empty line could be filled only by a reshuffle: nobody can take it "
                "as the week stands, but a valid week with it filled exists.",
                "%(lines)s empty lines could be filled only by a reshuffle: nobody can take "
                "them as the week stands, but a valid week with them filled exists.",
                item["lines"],
            )
        else:
            text = ngettext(
                "At least %(lines)s empty line could be filled by a reshuffle of the week.",
                "At least %(lines)s empty lines could be filled by a reshuffle of the week.",
                item["lines"],
            )
        return text % {"lines": item["lines"]}
    if code == "unfillable":
        return ngettext(
            "%(lines)s line cannot be filled by any week that keeps the hard rules.",
            "%(lines)s lines cannot be filled by any week that keeps the hard rules.",
            item["lines"],
        ) % {"lines": item["lines"]}
    if code == "infeasible":
        if item.get("max_empty") is not None:
            return _(
                "No timetable keeps every hard rule: at most %(n)s empty lines per turn "
                "cannot be met with the people available."
            ) % {"n": item["max_empty"]}
        return _("No timetable keeps every hard rule.")
    return str(code)


def describe_break(item: dict | str) -> str:
    """One broken hard rule (see ``solver.violations``) as a sentence."""
    if isinstance(item, str):
        return item  # an edit's warning stored before warnings were translatable
    code = item.get("code")
    values = {**item, "when": _when(item)}
    if "day_label" in item and "turn_label" not in item:
        values["day"] = _when(item)
    texts = {
        "over_lines": _("%(when)s: %(staffed)s people on %(lines)s lines"),
        "too_empty": _("%(when)s: %(empty)s empty lines, more than %(cap)s"),
        "two_lines": _("%(when)s: %(name)s holds two lines"),
        "not_on_team": _("%(when)s: %(name)s is not on the team"),
        "on_holiday": _("%(when)s: %(name)s is on holiday"),
        "busy": _("%(when)s: %(name)s is busy (%(reason)s)"),
        "desk_cap": _("%(when)s: %(count)s people of %(desk)s, more than %(cap)s"),
        "max_per_day": _("%(day)s: %(name)s has %(count)s turns, more than %(cap)s a day"),
        "lunch": _("%(day)s: %(name)s takes %(first)s and %(second)s back to back (lunch rule)"),
        "split_day": _("%(day)s: %(name)s has a split day"),
        "over_maximum": _("%(name)s has %(count)s turns, over the weekly maximum of %(cap)s"),
    }
    return texts[code] % values if code in texts else str(code)


def describe_status(status: str, gap: float | None = None) -> str:
    """How good a draft is, in words: proven best, within its gap, or the best found."""
    if status == "optimal":
        return _("the best possible week (proven)")
    if status == "within_gap":
        return _("within %(gap)s of the best possible week") % {"gap": f"{(gap or 0):.1%}"}
    if status == "feasible":
        if gap is None:
            return _("the best week found in the time budget")
        return _("the best week found in the time budget (at most %(gap)s from the best)") % {
            "gap": f"{gap:.1%}"
        }
    if status == "infeasible":
        return _("no week keeps every hard rule")
    return _("no week found in the time budget")


def render_report(report: dict) -> dict:
    """``report`` with each gap's ``text``, the week's ``summary_text`` and the
    ``status_text`` rendered."""
    rendered = dict(report or {})
    if rendered.get("status"):
        rendered["status_text"] = describe_status(rendered["status"], rendered.get("gap"))
    rendered["unfilled"] = [
        {**gap, "text": describe_gap(gap)} for gap in rendered.get("unfilled") or []
    ]
    rendered["summary_text"] = [describe_summary(item) for item in rendered.get("summary") or []]
    return rendered


def describe_edit(kind: str, detail: dict, days: list[int], turns: list[str]) -> str:
    """A timetable edit's ``detail`` (as the actions store it) as a sentence.

    ``days`` and ``turns`` are the timetable's, to name a slot by its weekday and hours
    rather than by its position. A detail of an unknown shape reads as nothing.
    """

    def when(slot: dict) -> str:
        day, turn = slot.get("day"), slot.get("turn")
        label = DAY_LABELS[days[day]] if isinstance(day, int) and 0 <= day < len(days) else ""
        hours = turns[turn] if isinstance(turn, int) and 0 <= turn < len(turns) else ""
        return _when({"day_label": label, "turn_label": hours})

    try:
        if kind == "swap":
            first, second = detail["first"], detail["second"]
            return _("%(first)s (%(first_when)s) and %(second)s (%(second_when)s) swapped") % {
                "first": first["person"],
                "first_when": when(first),
                "second": second["person"],
                "second_when": when(second),
            }
        if kind == "replace":
            return _("%(when)s: %(new)s instead of %(old)s") % {
                "when": when(detail),
                "new": detail["new"],
                "old": detail["old"],
            }
        if kind in ("add_line", "remove_line"):
            values = {"when": when(detail), "lines": detail["lines"], "name": detail.get("person")}
            if kind == "add_line":
                text = (
                    _("%(when)s: one more line (%(lines)s), %(name)s on it")
                    if values["name"]
                    else _("%(when)s: one more line (%(lines)s)")
                )
            else:
                text = (
                    _("%(when)s: one line less (%(lines)s), %(name)s off it")
                    if values["name"]
                    else _("%(when)s: one line less (%(lines)s)")
                )
            return text % values
    except (KeyError, TypeError):
        pass
    return ""
