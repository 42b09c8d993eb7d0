import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from sofno.core.windows import WeeklyWindows

ROME = ZoneInfo("Europe/Rome")
UTC = dt.UTC


def weekdays(start: str, end: str, tz: str = "Europe/Rome") -> WeeklyWindows:
    return WeeklyWindows(
        timezone=tz, ranges=[{"day": d, "start": start, "end": end} for d in range(7)]
    )


def test_it_contains_local_wall_time():
    hours = weekdays("09:00", "17:00")
    assert hours.contains(dt.datetime(2026, 1, 5, 9, 0, tzinfo=ROME))
    assert not hours.contains(dt.datetime(2026, 1, 5, 17, 0, tzinfo=ROME))
    # 08:30 UTC is 09:30 in Rome in winter.
    assert hours.contains(dt.datetime(2026, 1, 5, 8, 30, tzinfo=UTC))


def test_it_keeps_local_hours_across_a_dst_change():
    hours = weekdays("09:00", "17:00")
    # Rome switches to summer time on 2026-03-29: 09:00 local is 08:00 UTC before, 07:00 after.
    assert hours.contains(dt.datetime(2026, 3, 28, 8, 0, tzinfo=UTC))
    assert not hours.contains(dt.datetime(2026, 3, 30, 6, 30, tzinfo=UTC))
    assert hours.contains(dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC))


def test_it_finds_next_start_across_spring_forward():
    hours = weekdays("09:00", "17:00")
    after = dt.datetime(2026, 3, 28, 18, 0, tzinfo=ROME)
    assert hours.next_start(after) == dt.datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_it_finds_next_start_across_fall_back():
    hours = weekdays("09:00", "17:00")
    after = dt.datetime(2026, 10, 24, 18, 0, tzinfo=ROME)
    assert hours.next_start(after) == dt.datetime(2026, 10, 25, 8, 0, tzinfo=UTC)


def test_it_maps_a_skipped_wall_time_to_the_jump():
    hours = WeeklyWindows(
        timezone="Europe/Rome", ranges=[{"day": 6, "start": "02:30", "end": "05:00"}]
    )
    after = dt.datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    # 02:00 local does not exist that night; clocks jump at 01:00 UTC.
    assert hours.next_start(after) == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert hours.contains(dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC))


def test_it_returns_after_itself_when_inside():
    hours = weekdays("09:00", "17:00")
    at = dt.datetime(2026, 1, 5, 10, 0, tzinfo=ROME)
    assert hours.next_start(at) == at


def test_it_finds_the_end_of_an_overnight_window():
    quiet = WeeklyWindows(
        timezone="America/New_York",
        ranges=[
            {"day": 0, "start": "22:00", "end": "24:00"},
            {"day": 1, "start": "00:00", "end": "07:00"},
        ],
    )
    at = dt.datetime(2026, 3, 2, 23, 0, tzinfo=ZoneInfo("America/New_York"))
    assert quiet.next_end(at) == dt.datetime(2026, 3, 3, 7, 0, tzinfo=ZoneInfo("America/New_York"))


def test_it_has_no_next_start_without_ranges():
    assert WeeklyWindows().next_start(dt.datetime(2026, 1, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ([{"day": 0, "start": "10:00", "end": "09:00"}], "inverted"),
        ([{"day": 0, "start": "10:00", "end": "10:00"}], "inverted"),
        (
            [
                {"day": 0, "start": "09:00", "end": "12:00"},
                {"day": 0, "start": "11:00", "end": "13:00"},
            ],
            "overlap",
        ),
        ([{"day": 7, "start": "09:00", "end": "12:00"}], "less than or equal"),
        ([{"day": 0, "start": "9:00", "end": "12:00"}], "pattern"),
    ],
)
def test_it_rejects_bad_ranges(ranges, message):
    with pytest.raises(ValidationError, match=message):
        WeeklyWindows(timezone="UTC", ranges=ranges)


def test_it_rejects_unknown_timezones():
    with pytest.raises(ValidationError, match="unknown timezone"):
        WeeklyWindows(timezone="Mars/Olympus")
