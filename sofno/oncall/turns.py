"""Turns of a day: wall-clock ranges such as ``09:00-10:15``, in order, not overlapping."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DEFAULT_TURNS = ("09:00-10:15", "10:15-11:30", "11:30-12:45", "12:45-14:00")


@dataclass(frozen=True)
class Turn:
    """One turn: minutes from local midnight, ``start`` included, ``end`` excluded."""

    start: int
    end: int

    @property
    def label(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"

    def start_time(self) -> dt.time:
        return dt.time(self.start // 60, self.start % 60)

    def contains(self, minute: int) -> bool:
        return self.start <= minute < self.end


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minute(text: str, where: str) -> int:
    try:
        hours, minutes = text.strip().split(":")
        value = int(hours) * 60 + int(minutes)
        valid = len(minutes) == 2 and 0 <= int(minutes) < 60 and 0 <= value <= 24 * 60
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(f"{where}: {text!r} is not a time like 09:00")
    return value


def parse_turns(values: list[str] | tuple[str, ...]) -> list[Turn]:
    """Parse turn labels; raise ``ValueError`` naming the bad one and the rule.

    - Each is ``HH:MM-HH:MM`` with the start before the end.
    - They are in order and do not overlap (they may touch).
    """
    if not isinstance(values, list | tuple) or not values:
        raise ValueError("give at least one turn such as 09:00-10:15")
    turns: list[Turn] = []
    for index, value in enumerate(values):
        where = f"turn {index + 1}"
        if not isinstance(value, str) or value.count("-") != 1:
            raise ValueError(f"{where}: {value!r} is not a range like 09:00-10:15")
        start_text, end_text = value.split("-")
        turn = Turn(_minute(start_text, where), _minute(end_text, where))
        if turn.start >= turn.end:
            raise ValueError(f"{where}: {value} ends before it starts")
        if turns and turn.start < turns[-1].end:
            raise ValueError(f"{where}: {value} overlaps or comes before {turns[-1].label}")
        turns.append(turn)
    return turns


def day_code(weekday: int) -> str:
    return DAY_CODES[weekday]


def parse_day(value: str | int) -> int:
    """A weekday from ``mon``..``sun`` or 0..6."""
    if isinstance(value, int) and 0 <= value <= 6:
        return value
    text = str(value).strip().lower()[:3]
    if text in DAY_CODES:
        return DAY_CODES.index(text)
    raise ValueError(f"{value!r} is not a weekday (mon..sun)")
