"""Quiet hours in each person's timezone, business hours, and DST changes."""

from __future__ import annotations

import datetime as dt

from sofno.directory.models import Customer, StaffProfile
from sofno.notify import reasons
from sofno.notify.routing.quiet import QuietAction, decide

UTC = dt.UTC
NIGHTS = {
    "ranges": [
        *({"day": d, "start": "22:00", "end": "24:00"} for d in range(7)),
        *({"day": d, "start": "00:00", "end": "07:00"} for d in range(7)),
    ]
}


def quiet_in(zone: str):
    return StaffProfile(timezone=zone, quiet_hours=NIGHTS).quiet()


def test_it_defers_to_the_end_of_the_persons_own_night():
    at = dt.datetime(2026, 6, 10, 21, 30, tzinfo=UTC)  # 23:30 in Rome (CEST)
    decision = decide(at, quiet=quiet_in("Europe/Rome"), who="Adam")
    assert decision.send_at == dt.datetime(2026, 6, 11, 5, 0, tzinfo=UTC)  # 07:00 CEST
    assert decision.deferred and not decision.skip
    assert decision.code == reasons.DEFERRED_QUIET
    # In the person's zone, whoever reads it.
    assert decision.reason == "deferred until 11/06/2026 07:00 CEST: Adam's quiet hours"


def test_it_sends_at_once_to_someone_whose_day_it_is():
    at = dt.datetime(2026, 6, 10, 21, 30, tzinfo=UTC)  # 17:30 in New York
    decision = decide(at, quiet=quiet_in("America/New_York"))
    assert decision.send_at == at and not decision.deferred and decision.reason == ""


def test_it_follows_local_hours_when_dst_ends():
    # Rome leaves CEST (UTC+2) for CET (UTC+1) at 03:00 on 25 October 2026.
    at = dt.datetime(2026, 10, 24, 21, 0, tzinfo=UTC)  # 23:00 CEST on the 24th
    decision = decide(at, quiet=quiet_in("Europe/Rome"))
    assert decision.send_at == dt.datetime(2026, 10, 25, 6, 0, tzinfo=UTC)  # 07:00 CET


def test_it_follows_local_hours_when_dst_starts():
    # Rome moves to CEST at 02:00 on 29 March 2026: the night is an hour shorter.
    at = dt.datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # 23:00 CET on the 28th
    decision = decide(at, quiet=quiet_in("Europe/Rome"))
    assert decision.send_at == dt.datetime(2026, 3, 29, 5, 0, tzinfo=UTC)  # 07:00 CEST


def test_it_handles_new_yorks_dst_change_on_another_weekend():
    # New York leaves DST on 1 November 2026, a week after Rome.
    at = dt.datetime(2026, 11, 1, 3, 0, tzinfo=UTC)  # 23:00 EDT on 31 October
    decision = decide(at, quiet=quiet_in("America/New_York"))
    assert decision.send_at == dt.datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # 07:00 EST


def test_it_skips_to_the_next_person_or_goes_through_when_the_rule_says_so():
    at = dt.datetime(2026, 6, 10, 1, 0, tzinfo=UTC)  # 03:00 in Rome
    skip = decide(at, quiet=quiet_in("Europe/Rome"), action=QuietAction.NEXT, who="Adam")
    assert skip.skip and skip.code == reasons.QUIET_NEXT
    assert skip.reason == "Adam is in quiet hours: next person"
    through = decide(at, quiet=quiet_in("Europe/Rome"), action=QuietAction.THROUGH, who="Adam")
    assert through.send_at == at and not through.skip and not through.deferred
    assert through.code == reasons.QUIET_THROUGH
    assert through.reason == "critical: sent during Adam's quiet hours"


def test_it_waits_for_the_customers_business_hours():
    customer = Customer(
        timezone="Europe/London",
        business_hours={"ranges": [{"day": d, "start": "09:00", "end": "18:00"} for d in range(5)]},
    )
    saturday = dt.datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    decision = decide(saturday, business=customer.hours())
    assert decision.send_at == dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 09:00 GMT
    assert decision.code == reasons.DEFERRED_HOURS
    assert decision.reason == "deferred until 23/11/2026 09:00 GMT: outside business hours"


def test_it_satisfies_quiet_and_business_hours_together():
    customer = Customer(
        timezone="Europe/Rome",
        business_hours={"ranges": [{"day": d, "start": "09:00", "end": "18:00"} for d in range(7)]},
    )
    at = dt.datetime(2026, 6, 10, 21, 30, tzinfo=UTC)  # 23:30 in Rome
    decision = decide(at, quiet=quiet_in("Europe/Rome"), business=customer.hours())
    assert decision.send_at == dt.datetime(2026, 6, 11, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert decision.code == reasons.DEFERRED_QUIET_HOURS
    assert "quiet hours" in decision.reason and "business hours" in decision.reason
    assert "11/06/2026 09:00 CEST" in decision.reason
