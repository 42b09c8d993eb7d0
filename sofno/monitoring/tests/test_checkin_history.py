"""Check-in history is a ring of the latest check-ins per device: what the device page,
the API and the availability figures (offline periods) show stays the same when the
ring slides over old check-ins, and the prunes delete in budgeted chunks."""

import datetime as dt
import re

import pytest
import time_machine

from sofno.events.retention import delete_in_batches
from sofno.monitoring import actions, checkin, retention
from sofno.monitoring.models import (
    CheckIn,
    Device,
    Incident,
    IncidentEntry,
    IncidentStatus,
    TimelineKind,
)

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _check_in(key: str, minutes: float, ip: str = "198.51.100.7") -> None:
    at = START + dt.timedelta(minutes=minutes)
    with time_machine.travel(at, tick=False):
        assert checkin.handle(key, ip, {"uptime": int(minutes * 60)}, at=at).status == 200


def _section(html: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}".*?</(table|ul)>', html, re.S).group(0)


def _views(client, api, device: Device) -> dict:
    page = client.get(f"/devices/{device.public_id}/").content.decode()
    described = api.get(f"/devices/{device.public_id}").json()
    # These follow the newest check-in by definition; everything else must not move.
    latest = {"last_checkin_at", "alert_after", "facts", "updated_at"}
    return {
        "api_device": {k: v for k, v in described.items() if k not in latest},
        "api_periods": api.get(f"/devices/{device.public_id}/offline-periods").json(),
        "page_periods": _section(page, "offline-history"),
        "page_incidents": _section(page, "incidents"),
        "page_checkins": re.findall(r"<li>([^<]+ 198\.51\.100\.\d+)</li>", page),
    }


def test_it_shows_the_same_figures_after_the_history_window_slides(
    cast, client, api_client, make_device, monkeypatch
):
    monkeypatch.setenv("SOFNO_CHECKIN_HISTORY", "5")
    device, key = make_device(checkin_interval=60, grace=0)
    client.force_login(cast.agent)
    api = api_client(cast.key)
    _check_in(key, 0)
    # Silent for ten minutes: offline (a period and an incident), then back.
    assert actions.sweep_offline(now=START + dt.timedelta(minutes=2)) == 1
    _check_in(key, 10, ip="198.51.100.8")
    for minute in (11, 12, 13):
        _check_in(key, minute)
    with time_machine.travel(START + dt.timedelta(minutes=13, seconds=30), tick=False):
        before = _views(client, api, device)
    assert len(before["api_periods"]) == 1 and before["api_periods"][0]["ended_at"]
    assert len(before["page_checkins"]) == 5

    # Enough check-ins that every slot from before the outage is overwritten.
    for minute in range(14, 24):
        _check_in(key, minute)
    with time_machine.travel(START + dt.timedelta(minutes=23, seconds=30), tick=False):
        after = _views(client, api, device)

    assert after["api_periods"] == before["api_periods"]
    assert after["page_periods"] == before["page_periods"]
    assert after["page_incidents"] == before["page_incidents"]
    assert after["api_device"] == before["api_device"]
    device.refresh_from_db()
    assert device.checkins_seen == 15
    # The page lists the ring: the latest five, newest first.
    shown = list(CheckIn.objects.filter(device=device).order_by("-at"))
    assert [c.seq for c in shown] == [15, 14, 13, 12, 11]
    assert len(after["page_checkins"]) == 5 and after["page_checkins"] != before["page_checkins"]


def test_it_prunes_the_slots_past_a_smaller_ring(make_device, monkeypatch):
    device, key = make_device()
    for minute in range(8):
        _check_in(key, minute)  # check-ins 1 to 8 in slots 1 to 8 of 20
    monkeypatch.setenv("SOFNO_CHECKIN_HISTORY", "3")
    assert retention.prune() == 6
    assert sorted(CheckIn.objects.values_list("slot", flat=True)) == [1, 2]
    # The next three check-ins fill the smaller ring with the latest.
    for minute in (9, 10, 11):
        _check_in(key, minute)
    ring = CheckIn.objects.filter(device=device).order_by("slot").values_list("slot", "seq")
    assert list(ring) == [(0, 9), (1, 10), (2, 11)]


def test_it_prunes_old_resolved_timelines_but_keeps_the_incidents(make_device, cast):
    device, _ = make_device()
    long_ago = START - dt.timedelta(days=400)
    old, recent, still_open = (
        Incident.objects.create(
            organization=cast.org,
            device=device,
            title="Till 1 is offline",
            status=status,
            opened_at=opened,
            resolved_at=opened + dt.timedelta(hours=1) if status == "resolved" else None,
        )
        for status, opened in (
            (IncidentStatus.RESOLVED, long_ago),
            (IncidentStatus.RESOLVED, START),
            (IncidentStatus.OPEN, long_ago),
        )
    )
    for incident in (old, recent, still_open):
        IncidentEntry.objects.create(
            incident=incident, at=incident.opened_at, kind=TimelineKind.OPENED
        )
    assert retention.prune(now=START) == 1
    assert set(IncidentEntry.objects.values_list("incident", flat=True)) == {
        recent.pk,
        still_open.pk,
    }
    assert Incident.objects.count() == 3


def test_it_deletes_in_chunks_and_stops_at_its_budget(make_device):
    device, key = make_device()
    for minute in range(6):
        _check_in(key, minute)
    rows = CheckIn.objects.filter(device=device)
    # A spent budget still deletes one chunk, then stops and says it is not finished.
    assert delete_in_batches(rows, chunk=2, budget=0, pause=0) == (2, False)
    assert rows.count() == 4
    assert delete_in_batches(rows, chunk=3, budget=10, pause=0) == (4, True)
    assert not rows.exists()
