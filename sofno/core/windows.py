"""Weekly time windows in a timezone: business hours, quiet hours, reachable hours.

Stored as JSON ``{"timezone": "Europe/Rome", "ranges": [{"day": 0, "start": "09:00",
"end": "13:00"}, ...]}`` with days 0 (Monday) to 6 (Sunday). Ranges are wall-clock
times, so a window keeps its local hours across a DST change.

Rules:
- ``start`` is before ``end`` (an overnight window is two ranges); ``end`` may be 24:00.
- Ranges on the same day do not overlap.
- The timezone is a known IANA name.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.utils.translation import gettext as _
from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MIDNIGHT = "24:00"


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


class TimeRange(BaseModel):
    """One range of wall-clock time on one weekday."""

    day: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["09:00"])
    end: str = Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$", examples=["17:30"])

    @model_validator(mode="after")
    def _start_before_end(self) -> TimeRange:
        if _minutes(self.start) >= _minutes(self.end):
            raise PydanticCustomError(
                "inverted_range",
                _("range on {day} is inverted or empty: start {start} must be before end {end}"),
                {"day": DAY_NAMES[self.day], "start": self.start, "end": self.end},
            )
        return self

    @property
    def start_minute(self) -> int:
        return _minutes(self.start)

    @property
    def end_minute(self) -> int:
        return _minutes(self.end)


def check_no_overlap(ranges: list[TimeRange]) -> None:
    """Raise a pydantic ``overlapping_ranges`` error when two ranges of one day overlap."""
    for day in range(7):
        todays = sorted((r for r in ranges if r.day == day), key=lambda r: r.start_minute)
        for earlier, later in itertools.pairwise(todays):
            if later.start_minute < earlier.end_minute:
                raise PydanticCustomError(
                    "overlapping_ranges",
                    _("ranges overlap on {day}: {first} and {second}"),
                    {
                        "day": DAY_NAMES[day],
                        "first": f"{earlier.start}-{earlier.end}",
                        "second": f"{later.start}-{later.end}",
                    },
                )


class WeeklyWindows(BaseModel):
    """A weekly schedule of wall-clock ranges in one timezone."""

    timezone: str = "UTC"
    ranges: list[TimeRange] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if value not in _timezones():
            raise PydanticCustomError("timezone", _("unknown timezone '{name}'"), {"name": value})
        return value

    @model_validator(mode="after")
    def _no_overlap(self) -> WeeklyWindows:
        check_no_overlap(self.ranges)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_empty(self) -> bool:
        return not self.ranges

    def contains(self, at: dt.datetime) -> bool:
        """Whether the aware instant ``at`` falls inside one of the ranges."""
        local = at.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(
            r.day == local.weekday() and r.start_minute <= minute < r.end_minute
            for r in self.ranges
        )

    def next_start(self, after: dt.datetime) -> dt.datetime | None:
        """The first instant at or after ``after`` when a window is open.

        Returns ``after`` itself when it is inside a window, ``None`` when there are
        no ranges.
        """
        if self.contains(after):
            return after
        return self._next_boundary(after, lambda r: r.start_minute)

    def next_end(self, after: dt.datetime) -> dt.datetime | None:
        """The first instant after ``after`` when the current window closes.

        Returns ``after`` when it is outside every window. A window running into the
        next day's range (e.g. 22:00-24:00 then 00:00-07:00) ends at the last one.
        """
        if not self.contains(after):
            return after
        moment = after
        for _step in range(8 * 3):  # bounded: at most a week of adjacent ranges
            end = self._next_boundary(moment, lambda r: r.end_minute, strict=True)
            if end is None or not self.contains(end):
                return end
            moment = end
        return None

    def _next_boundary(
        self, after: dt.datetime, minute_of: Callable[[TimeRange], int], strict: bool = False
    ) -> dt.datetime | None:
        zone = self.zone
        local_day = after.astimezone(zone).date()
        candidates: list[dt.datetime] = []
        for offset in range(8):
            day = local_day + dt.timedelta(days=offset)
            for r in self.ranges:
                if r.day != day.weekday():
                    continue
                moment = _local_instant(day, minute_of(r), zone)
                if moment > after or (moment == after and not strict):
                    candidates.append(moment)
            if candidates:
                return min(candidates)
        return None


def _local_instant(day: dt.date, minute: int, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant when the local wall clock first shows ``day`` + ``minute``.

    A wall time skipped by a DST jump (e.g. 02:30 on a spring-forward night) maps to
    the moment of the jump, when clocks first read later than it.
    """
    naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    early = naive.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)
    late = naive.replace(tzinfo=zone, fold=1).astimezone(dt.UTC)
    if early.astimezone(zone).replace(tzinfo=None) == naive:
        return min(early, late) if late.astimezone(zone).replace(tzinfo=None) == naive else early
    # Skipped wall time: the jump lies between ``late`` and ``early``; find it.
    low, high = min(early, late), max(early, late)
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


_TZ_CACHE: set[str] = set()


def _timezones() -> set[str]:
    if not _TZ_CACHE:
        _TZ_CACHE.update(available_timezones())
        _TZ_CACHE.add("UTC")
    return _TZ_CACHE


def validate_timezone(name: str) -> str:
    """Return ``name`` if it is a known IANA timezone, else raise ``ValueError``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(_("unknown timezone %(name)r") % {"name": name}) from None
    if name not in _timezones():
        raise ValueError(_("unknown timezone %(name)r") % {"name": name})
    return name
