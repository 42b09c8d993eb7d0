"""The one alert policy: nothing about a customer or device goes out during a
maintenance window or with alerts off, and it goes out when the hold ends if still
true (in-app and email to a loopback SMTP server)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from sofno.directory.models import Customer
from sofno.events import catalog
from sofno.events.emit import emit
from sofno.events.models import Event
from sofno.monitoring import actions, checkin
from sofno.monitoring.actions.payloads import site_data
from sofno.monitoring.models import Device, DeviceStatus, Incident
from sofno.notify import reasons
from sofno.notify.delivery import machinery
from sofno.notify.models import (
    Delivery,
    HeldNotification,
    HoldStatus,
    InboxItem,
    NotificationRule,
    RuleEvaluation,
)
from sofno.notify.routing import dispatcher, policy
from sofno.notify.routing import router as routing
from sofno.notify.testing.helpers import owner

MONDAY_10 = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)


def subject_types() -> list[str]:
    """Every catalog event type a rule may name about a device or customer."""
    out = []
    for name, event_type in sorted(catalog.BUILTIN.items()):
        tokens = {t.name for t in event_type.tokens}
        about = {"device_id", "customer_id"} & tokens
        if about and not name.startswith(policy.EXEMPT_PREFIXES):
            out.append(name)
    return out


SUBJECT_TYPES = subject_types()


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def customer(cast):
    return Customer.objects.create(organization=cast.org, name="Café Central")


@pytest.fixture
def down(cast, customer):
    """A computer of the customer offline since MONDAY_10 + 90 s, its incident open."""
    # Created in the test's frozen time too: a device.created recorded "now" would be
    # newer than the rules the tests make on MONDAY_10, and so match them.
    with at(MONDAY_10):
        device, key = actions.create_device(
            acting_user=owner(cast),
            customer=customer,
            fields={"name": "Till 1", "checkin_interval": 60, "grace": 30},
        )
        checkin.handle(key, None, None)
    with at(MONDAY_10 + dt.timedelta(seconds=91)):
        actions.sweep_offline()
    device.refresh_from_db()
    device.key = key
    return device


def route(cast):
    while dispatcher.dispatch_organization(cast.org.pk):
        pass


def rule_for(cast, event_type: str) -> NotificationRule:
    return NotificationRule.objects.create(
        organization=cast.org,
        name=f"Tell Adam about {event_type}",
        event_types=[event_type],
        recipients=[{"kind": "user", "value": cast.agent.username}],
        channels=["email"],
    )


def emit_about(cast, event_type: str, device: Device) -> Event:
    """An event of ``event_type`` about ``device`` (or its customer, for site events),
    with the payload monitoring gives that type."""
    incident = Incident.objects.filter(device=device).first()
    if event_type.startswith("site."):
        site = Incident.objects.create(
            organization=cast.org,
            customer=device.customer,
            kind="site",
            devices_down=1,
            devices_total=1,
            title="Café Central is down (1 of 1 computers offline)",
        )
        data = {**site_data(site, [device.name]), "device_name": device.name}
        return emit(cast.org, event_type, f"customer:{device.customer.public_id}", data)
    data = actions.incident_data(incident, device) if incident else actions.device_data(device)
    return emit(cast.org, event_type, f"device:{device.public_id}", data)


def sent(smtp) -> tuple[int, int]:
    machinery.deliver_all(max_seconds=10)
    return len(smtp.messages), InboxItem.objects.count()


HOLDS = ("device maintenance", "customer maintenance", "alerts off")


def start_hold(cast, hold: str, device: Device):
    if hold == "alerts off":
        device.customer.alerts_enabled = False
        device.customer.save()
        return None
    target = {"device": device} if hold == "device maintenance" else {"customer": device.customer}
    return actions.create_maintenance(
        acting_user=owner(cast),
        ends_at=MONDAY_10 + dt.timedelta(hours=1),
        reason="Router",
        **target,
    )


def end_hold(cast, hold: str, device: Device) -> dt.datetime:
    """End the hold; returns when it ended."""
    if hold == "alerts off":
        moment = MONDAY_10 + dt.timedelta(minutes=30)
        with at(moment):
            device.customer.alerts_enabled = True
            device.customer.save()
            route(cast)  # the customer.updated event ends the hold
        return moment
    return MONDAY_10 + dt.timedelta(hours=1, seconds=1)


@pytest.mark.parametrize("hold", HOLDS)
@pytest.mark.parametrize("event_type", SUBJECT_TYPES)
def test_it_holds_every_subject_event_and_sends_it_when_the_hold_ends(
    cast, smtp, down, event_type, hold
):
    if hold == "device maintenance" and event_type.startswith("site."):
        pytest.skip("a site event is about the customer, not one device")
    if event_type in policy.BACK_TYPES:
        # A "back" event is news while the device is back: let it check in again.
        with at(MONDAY_10 + dt.timedelta(minutes=2)):
            checkin.handle(down.key, None, None)
    with at(MONDAY_10 + dt.timedelta(minutes=3)):
        start_hold(cast, hold, down)
        rule = rule_for(cast, event_type)
    with at(MONDAY_10 + dt.timedelta(minutes=4)):
        event = emit_about(cast, event_type, down)
        route(cast)
        assert sent(smtp) == (0, 0)
        assert not Delivery.objects.filter(event=event).exists()
        held = HeldNotification.objects.get(event=event, rule=rule)
        assert held.status == HoldStatus.HELD
        evaluation = RuleEvaluation.objects.get(event=event, rule=rule)
        assert evaluation.matched and evaluation.deliveries == 0
        assert any(reasons.code_of(r) == reasons.HELD for r in evaluation.reasons)
        assert any(reasons.text(r).startswith("held: ") for r in evaluation.reasons)
    # Still inside the hold: nothing.
    with at(MONDAY_10 + dt.timedelta(minutes=20)):
        routing.release_due()
        assert sent(smtp) == (0, 0)
    ended = end_hold(cast, hold, down)
    with at(ended + dt.timedelta(seconds=1)):
        assert routing.release_due() == 1
        assert sent(smtp) == (1, 1)
    held.refresh_from_db()
    assert held.status == HoldStatus.RELEASED
    (message,) = smtp.messages
    assert message.rcpt_tos == [cast.agent.email]
    evaluation.refresh_from_db()
    assert evaluation.deliveries == 2  # the email and the bell
    assert held.outcome_code in (
        reasons.STILL_RELEVANT,
        reasons.INCIDENT_STILL_OPEN,
        reasons.DEVICE_STILL_OFFLINE,
        reasons.DEVICE_STILL_ONLINE,
    )
    assert any(reasons.code_of(r) == reasons.HOLD_RELEASED for r in evaluation.reasons)
    assert any("sent when the hold ended" in reasons.text(r) for r in evaluation.reasons)


def test_it_drops_a_held_alert_when_the_device_came_back_meanwhile(cast, smtp, down):
    with at(MONDAY_10 + dt.timedelta(minutes=3)):
        start_hold(cast, "customer maintenance", down)
        rule = rule_for(cast, "device.offline")
    with at(MONDAY_10 + dt.timedelta(minutes=4)):
        emit_about(cast, "device.offline", down)
        route(cast)
    with at(MONDAY_10 + dt.timedelta(minutes=30)):
        checkin.handle(down.key, None, None)
    with at(MONDAY_10 + dt.timedelta(hours=1, seconds=1)):
        assert routing.release_due() == 1
        assert sent(smtp) == (0, 0)
    held = HeldNotification.objects.get(rule=rule)
    assert held.status == HoldStatus.DROPPED
    assert held.outcome_code in (
        reasons.DEVICE_BACK_MEANWHILE,
        reasons.INCIDENT_RESOLVED_MEANWHILE,
    )
    assert "came back" in held.outcome_text
    evaluation = RuleEvaluation.objects.get(rule=rule)
    assert held.outcome_text in [reasons.text(r) for r in evaluation.reasons]


def test_it_sends_at_once_when_a_window_is_ended_early(cast, smtp, down):
    with at(MONDAY_10 + dt.timedelta(minutes=3)):
        window = start_hold(cast, "device maintenance", down)
        rule_for(cast, "incident.alert")
    with at(MONDAY_10 + dt.timedelta(minutes=4)):
        emit_about(cast, "incident.alert", down)
        route(cast)
    with at(MONDAY_10 + dt.timedelta(minutes=10)):
        actions.end_maintenance(acting_user=owner(cast), window=window)
        route(cast)  # maintenance.ended makes the hold due now
        assert routing.release_due() == 1
        assert sent(smtp) == (1, 1)


def test_it_moves_a_hold_when_the_window_is_extended_by_a_second_one(cast, smtp, down):
    with at(MONDAY_10 + dt.timedelta(minutes=3)):
        start_hold(cast, "device maintenance", down)
        actions.create_maintenance(
            acting_user=owner(cast),
            customer=down.customer,
            starts_at=MONDAY_10 + dt.timedelta(minutes=50),
            ends_at=MONDAY_10 + dt.timedelta(hours=2),
            reason="Cabling",
        )
        rule = rule_for(cast, "device.offline")
    with at(MONDAY_10 + dt.timedelta(minutes=4)):
        emit_about(cast, "device.offline", down)
        route(cast)
    held = HeldNotification.objects.get(rule=rule)
    assert held.release_at == MONDAY_10 + dt.timedelta(hours=2)
    with at(MONDAY_10 + dt.timedelta(hours=2, seconds=1)):
        assert routing.release_due() == 1
        assert sent(smtp) == (1, 1)


def test_it_holds_outside_business_hours_until_they_open(cast, smtp, down, customer):
    customer.timezone = "Europe/Rome"
    customer.business_hours = {"ranges": [{"day": 0, "start": "12:00", "end": "18:00"}]}
    customer.save()
    with at(MONDAY_10 + dt.timedelta(minutes=3)):
        rule = rule_for(cast, "incident.alert")
    with at(MONDAY_10 + dt.timedelta(minutes=4)):  # 11:04 in Rome: closed
        emit_about(cast, "incident.alert", down)
        route(cast)
        assert sent(smtp) == (0, 0)
    held = HeldNotification.objects.get(rule=rule)
    assert held.release_at == dt.datetime(2026, 1, 5, 11, 0, tzinfo=dt.UTC)
    assert held.reason == "outside_hours"
    # The customer's zone, in the reader's date format.
    assert held.detail_text == "outside Café Central's business hours until 05/01/2026 12:00 CET"
    with at(dt.datetime(2026, 1, 5, 11, 0, 1, tzinfo=dt.UTC)):
        assert routing.release_due() == 1
        assert sent(smtp) == (1, 1)


def test_it_leaves_webhooks_and_ticket_events_unfiltered(cast, down, customer):
    customer.alerts_enabled = False
    customer.save()
    assert policy.hold_for(Event(type="ticket.created", organization=cast.org), MONDAY_10) is None
    event = emit_about(cast, "device.offline", down)
    assert policy.hold_for(event, MONDAY_10).reason == "alerts_off"
    assert Device.objects.get(pk=down.pk).status == DeviceStatus.OFFLINE
