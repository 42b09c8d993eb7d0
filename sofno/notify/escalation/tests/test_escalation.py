"""Escalation: steps and waits, a policy frozen at start, stopped by acknowledgement."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from sofno.events.emit import emit
from sofno.monitoring import actions as monitoring
from sofno.monitoring.actions import incident_data
from sofno.notify import reasons
from sofno.notify.escalation import chain as escalation
from sofno.notify.models import (
    Delivery,
    DeliveryStatus,
    EscalationPolicy,
    EscalationRun,
    NotificationRule,
    RunStatus,
)
from sofno.notify.routing import dispatcher
from sofno.notify.testing.helpers import device_with_incident, owner, set_profile

START = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def policy(cast):
    return EscalationPolicy.objects.create(
        organization=cast.org,
        name="Tills",
        steps=[
            {
                "recipients": [{"kind": "user", "value": "adam"}],
                "channels": ["sms"],
                "wait_minutes": 5,
            },
            {
                "recipients": [{"kind": "user", "value": "olivia"}],
                "channels": [],
                "wait_minutes": 10,
            },
        ],
        repeat=1,
    )


def alert(cast, incident):
    return emit(
        cast.org,
        "incident.alert",
        f"device:{incident.device.public_id}",
        incident_data(incident, incident.device),
    )


def route(cast):
    while dispatcher.dispatch_organization(cast.org.pk):
        pass


def staff_deliveries():
    return list(
        Delivery.objects.exclude(channel="webhook")
        .order_by("id")
        .values_list("recipient_user__username", "channel", "status")
    )


@pytest.fixture
def started(cast, policy):
    with time_machine.travel(START, tick=False):
        NotificationRule.objects.create(
            organization=cast.org,
            name="Alerts",
            event_types=["incident.alert"],
            recipients=[],
            channels=[],
            escalation_policy=policy,
        )
        _device, incident = device_with_incident(cast)
        alert(cast, incident)
        route(cast)
    return incident


def test_it_runs_the_first_step_at_once_and_the_next_after_the_wait(cast, started):

    run = EscalationRun.objects.get(incident=started)
    assert run.status == RunStatus.ACTIVE and run.step == 1
    assert run.next_at == START + dt.timedelta(minutes=5)
    # adam has no phone: the SMS step says so, and the bell still rings.
    assert staff_deliveries() == [("adam", "inapp", DeliveryStatus.PENDING)]
    set_profile(cast.owner, phone="+390611111111")
    with time_machine.travel(START + dt.timedelta(minutes=4), tick=False):
        assert escalation.tick() == 0
    with time_machine.travel(START + dt.timedelta(minutes=5), tick=False):
        assert escalation.tick() == 1
    assert [d[0] for d in staff_deliveries()] == ["adam", "olivia"]
    run.refresh_from_db()
    assert [entry["people"] for entry in run.log] == [["adam"], ["olivia"]]
    assert {"code": reasons.NO_PHONE, "params": {"person": "adam"}} in run.log[0]["notes"]


def test_it_repeats_the_chain_then_is_exhausted(cast, started):
    for minutes in (5, 15, 20, 30):
        with time_machine.travel(START + dt.timedelta(minutes=minutes), tick=False):
            escalation.tick()
    run = EscalationRun.objects.get(incident=started)
    assert run.status == RunStatus.EXHAUSTED
    assert [d[0] for d in staff_deliveries()] == ["adam", "olivia", "adam", "olivia"]


def test_it_stops_when_the_incident_is_acknowledged(cast, started):
    with time_machine.travel(START + dt.timedelta(minutes=2), tick=False):
        monitoring.acknowledge_incident(acting_user=owner(cast), incident=started)
        route(cast)  # the incident.acknowledged event reaches the router
    run = EscalationRun.objects.get(incident=started)
    assert run.status == RunStatus.STOPPED
    assert run.stopped_code == reasons.STOPPED_ACKNOWLEDGED
    assert run.stopped_text.startswith("acknowledged")
    # What it had not sent yet is cancelled, and no later step happens.
    assert staff_deliveries() == [("adam", "inapp", DeliveryStatus.CANCELLED)]
    with time_machine.travel(START + dt.timedelta(minutes=30), tick=False):
        assert escalation.tick() == 0
    assert len(staff_deliveries()) == 1


def test_it_says_why_it_stopped_in_the_readers_language(cast, started):
    with time_machine.travel(START + dt.timedelta(minutes=2), tick=False):
        monitoring.acknowledge_incident(acting_user=owner(cast), incident=started)
        route(cast)
    set_profile(cast.viewer, language="es")
    client = Client()
    client.force_login(cast.viewer)
    event = EscalationRun.objects.get(incident=started).event
    text = html.unescape(client.get(f"/notifications/events/{event.public_id}/").text)
    assert "escalado Tills iniciado" in text
    # The bell it had not rung yet: cancelled, and why, in Spanish.
    assert f"reconocida por {cast.owner.username}" in text
    assert "acknowledged" not in text and "escalation" not in text


def test_it_stops_at_the_next_step_even_if_the_event_was_not_routed_yet(cast, started):
    monitoring.resolve_incident(acting_user=owner(cast), incident=started)
    with time_machine.travel(START + dt.timedelta(minutes=5), tick=False):
        assert escalation.tick() == 0
    run = EscalationRun.objects.get(incident=started)
    assert run.status == RunStatus.STOPPED
    assert run.stopped_code == reasons.STOPPED_INCIDENT_RESOLVED
    assert run.stopped_text == "the incident was resolved"


def test_it_keeps_the_policy_frozen_when_it_is_edited(cast, started, policy):
    policy.steps = [
        {"recipients": [{"kind": "user", "value": "vera"}], "channels": [], "wait_minutes": 1}
    ]
    policy.save()
    with time_machine.travel(START + dt.timedelta(minutes=5), tick=False):
        escalation.tick()
    assert [d[0] for d in staff_deliveries()] == ["adam", "olivia"]
    run = EscalationRun.objects.get(incident=started)
    assert run.snapshot["steps"][1]["recipients"] == [{"kind": "user", "value": "olivia"}]


def test_it_starts_one_chain_per_incident_however_often_it_alerts(cast, started):
    with time_machine.travel(START + dt.timedelta(minutes=1), tick=False):
        alert(cast, started)
        route(cast)
    assert EscalationRun.objects.filter(incident=started).count() == 1


def test_two_workers_never_take_the_same_step(cast, started):
    run = EscalationRun.objects.get(incident=started)
    stale = EscalationRun.objects.get(pk=run.pk)
    with time_machine.travel(START + dt.timedelta(minutes=5), tick=False):
        assert escalation.take_step(run, timezone.now())
        assert not escalation.take_step(stale, timezone.now())
    assert len(staff_deliveries()) == 2


def test_keypad_3_silences_the_escalation_for_30_minutes(cast, started, settings):
    from django.test import Client
    from twilio.request_validator import RequestValidator

    from sofno.notify.channels.twilio import twiml

    settings.TWILIO_AUTH_TOKEN = "token"
    settings.BASE_URL = "https://sofno.example"
    token = twiml.call_token(o=cast.org.pk, u=cast.agent.pk, i=str(started.public_id))
    path = f"/notify/twilio/voice/{token}/keypress"
    signature = RequestValidator("token").compute_signature(
        "https://sofno.example" + path, {"Digits": "3"}
    )
    with time_machine.travel(START + dt.timedelta(minutes=1), tick=False):
        answer = Client().post(path, {"Digits": "3"}, headers={"X-Twilio-Signature": signature})
    assert "Silenced for 30 minutes" in answer.content.decode()
    run = EscalationRun.objects.get(incident=started)
    assert run.next_at == START + dt.timedelta(minutes=31)
    pending = Delivery.objects.get(channel="inapp", recipient_user=cast.agent)
    assert pending.next_attempt_at == START + dt.timedelta(minutes=31)
    with time_machine.travel(START + dt.timedelta(minutes=6), tick=False):
        assert escalation.tick() == 0  # step 2 would have been due at minute 5
    with time_machine.travel(START + dt.timedelta(minutes=31), tick=False):
        assert escalation.tick() == 1


def test_it_holds_a_step_during_a_maintenance_window_that_began_meanwhile(cast, started):
    with time_machine.travel(START + dt.timedelta(minutes=2), tick=False):
        monitoring.create_maintenance(
            acting_user=owner(cast),
            device=started.device,
            ends_at=START + dt.timedelta(hours=1),
            reason="Till replaced",
        )
    with time_machine.travel(START + dt.timedelta(minutes=5), tick=False):
        assert escalation.tick() == 0  # the policy holds the device: no step
    run = EscalationRun.objects.get(incident=started)
    assert run.step == 1 and run.next_at == START + dt.timedelta(hours=1)
    assert run.log[-1]["held"] == "maintenance"
    assert [d[0] for d in staff_deliveries()] == ["adam"]
    with time_machine.travel(START + dt.timedelta(hours=1, seconds=1), tick=False):
        assert escalation.tick() == 1
    assert [d[0] for d in staff_deliveries()] == ["adam", "olivia"]
