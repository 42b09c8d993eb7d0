"""Availability per day and over a window, from offline periods."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sofno.directory.models import Customer
from sofno.monitoring.availability import daily, uptime
from sofno.monitoring.models import Device, OfflinePeriod

ROME = ZoneInfo("Europe/Rome")
NOW = dt.datetime(2026, 3, 31, 12, 0, tzinfo=ROME)  # after the DST change of 29 March


def _at(day: int, hour: int, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=ROME)


@pytest.fixture
def device(cast):
    shop = Customer.objects.create(organization=cast.org, name="Shop", timezone="Europe/Rome")
    return Device.objects.create(
        organization=cast.org,
        customer=shop,
        name="Till 1",
        key_prefix="k",
        key_hash="h" * 64,
        created_at=_at(20, 0),
    )


def _offline(device, start, end=None):
    OfflinePeriod.objects.create(
        organization=device.organization, device=device, started_at=start, ended_at=end
    )


def test_it_colours_each_day_by_the_time_offline(device):
    _offline(device, _at(25, 6), _at(25, 12))  # six hours of a 24-hour day
    _offline(device, _at(27, 23), _at(28, 1))  # across midnight: one hour each day
    days = {d.date.day: d for d in daily([device], tz="Europe/Rome", days=15, now=NOW)[device.pk]}
    assert days[25].uptime == pytest.approx(0.75) and days[25].level == "down"
    assert days[27].offline_seconds == 3600 and days[28].offline_seconds == 3600
    assert days[26].uptime == 1.0 and days[26].level == "up"
    assert days[19].uptime is None and days[19].level == "none"  # before it existed
    assert days[31].uptime == 1.0  # today counts until now only


def test_it_counts_a_dst_day_as_23_hours(device):
    _offline(device, _at(29, 0), _at(29, 23))  # 29 March 2026 has 23 hours in Rome
    day = next(
        d for d in daily([device], tz="Europe/Rome", days=5, now=NOW)[device.pk] if d.date.day == 29
    )
    assert day.offline_seconds == 22 * 3600
    assert day.uptime == pytest.approx(1 / 23)


def test_it_counts_an_open_period_up_to_now(device):
    _offline(device, NOW - dt.timedelta(hours=6))
    share = uptime([device], window=dt.timedelta(days=1), now=NOW)[device.pk]
    assert share == pytest.approx(0.75)
    month = uptime([device], window=dt.timedelta(days=30), now=NOW)[device.pk]
    observed_hours = (NOW - device.created_at).total_seconds() / 3600
    assert month == pytest.approx(1 - 6 / observed_hours)
