"""Turn reminders end to end: the turn starts, oncall announces it once, notify's
managed rules email the people who chose email (loopback SMTP server), ring the bell
of the others, and post "on the phones now" to the team's Apprise URL (a loopback
HTTP receiver)."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from sofno.core.testing import field_errors
from sofno.events.models import Event
from sofno.notify.channels.email.smtp import POOL
from sofno.notify.delivery import machinery
from sofno.notify.models import Delivery, NotificationRule
from sofno.notify.routing import dispatcher
from sofno.notify.rules.turn_rules import TEAM_KEY
from sofno.notify.testing.receiver import Receiver
from sofno.oncall import actions, reminders
from sofno.oncall.models import Assignment, Timetable
from sofno.oncall.tests.helpers import BEFORE_WEEK, WEEK, owner_actor, team

ROME = ZoneInfo("Europe/Rome")  # acme's timezone
MONDAY_0905 = dt.datetime.combine(WEEK, dt.time(9, 5), tzinfo=ROME)


@pytest.fixture
def chat(loopback):
    server = Receiver(answer=lambda r: (200, {}, b"ok")).start()
    yield server
    server.stop()


def publish_week(cast, people) -> Timetable:
    """Monday 09:00-11:00: people 0 and 1; 11:00-13:00: person 2."""
    timetable = Timetable.objects.create(
        organization=cast.org,
        week_start=WEEK,
        turns=["09:00-11:00", "11:00-13:00"],
        days=[0, 1],
        lines=[[2, 2], [2, 2]],
    )
    Assignment.objects.bulk_create(
        [
            Assignment(timetable=timetable, day=0, turn=0, person=people[0]),
            Assignment(timetable=timetable, day=0, turn=0, person=people[1]),
            Assignment(timetable=timetable, day=0, turn=1, person=people[2]),
        ]
    )
    return actions.publish(acting_user=owner_actor(cast), timetable=timetable)


def settle() -> None:
    while dispatcher.dispatch_organization(Event.objects.order_by("-pk").first().organization_id):
        pass
    machinery.deliver_all(max_seconds=10)
    POOL.close_all()


@pytest.fixture
def week(cast, chat):
    """Three people, a team chat room, the week published on the Friday before."""
    with time_machine.travel(BEFORE_WEEK, tick=True):
        people = team(cast, 3)
        for person, channel in zip(people, ["email", "inapp", "email"], strict=True):
            person.reminder_channel = channel
            person.save(update_fields=["reminder_channel"])
        url = chat.url.replace("http://", "json://") + "/room"
        actions.update_settings(acting_user=owner_actor(cast), fields={"team_message_url": url})
        publish_week(cast, people)
    return people


def test_it_reminds_the_turns_people_and_tells_the_team_once(cast, smtp, chat, week):
    with time_machine.travel(MONDAY_0905, tick=True):
        assert reminders.tick() == 1
        assert reminders.tick() == 0  # the next tick, or another worker: nothing twice
        settle()
    event = Event.objects.get(type="oncall.turn_started")
    assert event.payload["people"] == "staff0, staff1"
    assert (event.payload["turn"], event.payload["date"], event.payload["time"]) == (
        "09:00-11:00",
        "2026-11-23",
        "09:00",
    )
    # staff0 chose email: one message through the real SMTP server, to them only.
    (mail,) = smtp.messages
    assert mail.rcpt_tos == ["staff0@example.com"]
    assert mail.message["Subject"] == "[SOFNO] On the phones now (2026-11-23 09:00-11:00): " + (
        "staff0, staff1"
    )
    # staff1 chose the bell; staff2 is not on this turn.
    bells = Delivery.objects.filter(event=event, channel="inapp")
    assert list(bells.values_list("recipient_user__username", flat=True)) == ["staff1"]
    # The team's chat room heard who is on the phones.
    (posted,) = chat.received
    assert posted.path == "/room"
    assert posted.json["title"] == (
        "[SOFNO] On the phones now (2026-11-23 09:00-11:00): staff0, staff1"
    )
    assert "who is on the phones, by name: staff0, staff1" in posted.json["message"]
    assert Delivery.objects.filter(event=event, status="succeeded").count() == 3


def test_it_announces_the_next_turn_and_nothing_between_turns(cast, smtp, chat, week):
    with time_machine.travel(MONDAY_0905, tick=True):
        reminders.tick()
        settle()
    smtp.messages.clear()
    with time_machine.travel(MONDAY_0905 + dt.timedelta(minutes=50), tick=True):
        assert reminders.tick() == 0  # still the first turn
    with time_machine.travel(MONDAY_0905 + dt.timedelta(hours=2), tick=True):
        assert reminders.tick() == 1  # 11:05: the second turn
        settle()
    with time_machine.travel(MONDAY_0905 + dt.timedelta(hours=5), tick=True):
        assert reminders.tick() == 0  # 14:05: no turn runs
    second = Event.objects.filter(type="oncall.turn_started").order_by("sequence").last()
    assert second.payload["people"] == "staff2" and second.payload["time"] == "11:00"
    assert [m.rcpt_tos for m in smtp.messages] == [["staff2@example.com"]]


def test_it_sends_no_team_message_without_a_url_and_keeps_an_admins_edit(cast, smtp, chat, week):
    with time_machine.travel(BEFORE_WEEK, tick=True):
        actions.update_settings(acting_user=owner_actor(cast), fields={"team_message_url": ""})
    assert not NotificationRule.objects.get(organization=cast.org, managed_key=TEAM_KEY).enabled
    email_rule = NotificationRule.objects.get(
        organization=cast.org, managed_key="oncall:turn_started:email"
    )
    email_rule.enabled = False  # an admin switched email reminders off
    email_rule.save()
    actions.update_settings(acting_user=owner_actor(cast), fields={"lines": 3})
    email_rule.refresh_from_db()
    assert not email_rule.enabled
    with time_machine.travel(MONDAY_0905, tick=True):
        reminders.tick()
        settle()
    assert smtp.messages == [] and chat.received == []
    assert Delivery.objects.filter(channel="inapp").count() == 1


def test_it_refuses_a_team_url_apprise_does_not_understand(cast):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="team_message_url"):
        actions.update_settings(
            acting_user=owner_actor(cast), fields={"team_message_url": "nosuchscheme://x"}
        )


def test_saving_the_settings_is_an_event_that_writes_the_rules_but_keeps_the_url(cast):
    url = "json://chat.example/room?token=s3cret"
    actions.update_settings(acting_user=owner_actor(cast), fields={"team_message_url": url})
    event = Event.objects.get(organization=cast.org, type="oncall.settings.updated")
    assert event.payload == {"changed": ["team_message_url"]}  # the token stays out of the log
    team = NotificationRule.objects.get(organization=cast.org, managed_key=TEAM_KEY)
    assert team.enabled and team.apprise_urls == [url]
    assert NotificationRule.objects.filter(organization=cast.org, managed_by="oncall").count() == 5


@pytest.mark.django_db(transaction=True)
def test_two_workers_announce_a_turn_once(cast, chat, week):
    """Two threads (two workers, two database connections) tick at the same moment."""
    barrier = threading.Barrier(2)
    results: list[int] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(reminders.tick(MONDAY_0905))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [0, 1]
    assert Event.objects.filter(type="oncall.turn_started").count() == 1


def test_people_and_admins_choose_through_the_api(cast, api_client, week):
    api = api_client(cast.key)
    person_id = week[0].public_id
    answer = api.patch(f"/oncall/people/{person_id}", {"reminder_channel": "sms"})
    assert answer.status_code == 200 and answer.json()["reminder_channel"] == "sms"
    refused = api.patch(f"/oncall/people/{person_id}", {"reminder_channel": "pigeon"})
    assert refused.status_code == 422 and "reminder_channel" in field_errors(refused)
    bad = api.patch("/oncall/settings", {"team_message_url": "nosuchscheme://x"})
    assert bad.status_code == 422 and field_errors(bad) == {"team_message_url": "apprise"}
    assert api.get("/oncall/settings").json()["team_message_url"].startswith("json://")
    assert api.patch("/oncall/settings", {"team_message_url": ""}).status_code == 200
    assert not NotificationRule.objects.get(organization=cast.org, managed_key=TEAM_KEY).enabled


def test_people_and_admins_choose_on_the_pages(cast, week):
    from django.test import Client

    owner = Client()
    owner.force_login(cast.owner)
    person = week[1]
    page = owner.get(f"/oncall/people/{person.public_id}/")
    assert 'name="reminder_channel"' in page.content.decode()
    form = {"extension": person.extension, "reminder_channel": "webpush"}
    owner.post(f"/oncall/people/{person.public_id}/", form)
    person.refresh_from_db()
    assert person.reminder_channel == "webpush" and person.extension == "202"
    settings_page = owner.get("/oncall/settings/").content.decode()
    assert 'name="team_message_url"' in settings_page and "json://" in settings_page


def test_the_managed_rules_show_and_save_on_the_rules_pages(cast, week):
    """An admin may edit a managed rule on the page; its turn people stay."""
    from django.test import Client

    owner = Client()
    owner.force_login(cast.owner)
    listing = owner.get("/notifications/rules/").content.decode()
    assert "Turn reminders: email" in listing and "Turn reminders: team message" in listing
    rule = NotificationRule.objects.get(
        organization=cast.org, managed_key="oncall:turn_started:sms"
    )
    page = owner.get(f"/notifications/rules/{rule.public_id}/")
    form = {**page.context["form"].initial, "name": "Turn reminders: texts"}
    form = {k: v for k, v in form.items() if v not in (None, "")}
    answer = owner.post(f"/notifications/rules/{rule.public_id}/", form)
    assert answer.status_code == 302, answer.content.decode()[-2000:]
    rule.refresh_from_db()
    assert rule.name == "Turn reminders: texts"
    assert rule.recipients == [{"kind": "turn_people", "value": "sms"}]
    assert rule.channels == ["sms"] and rule.quiet_action == "through"
