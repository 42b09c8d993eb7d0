"""Rules -> recipients -> deliveries: scoping, why, quiet hours, templates, SMTP."""

from __future__ import annotations

import datetime as dt
import html
import socket

import pytest
import time_machine
from django.test import Client
from django.utils import timezone, translation

from sofno.directory.models import Customer
from sofno.events.emit import emit
from sofno.monitoring.actions import device_data
from sofno.notify import reasons
from sofno.notify.channels.email.smtp import POOL
from sofno.notify.delivery import machinery
from sofno.notify.models import (
    Attempt,
    Delivery,
    DeliveryStatus,
    InboxItem,
    NotificationRule,
    RuleEvaluation,
    SmtpProfile,
    Template,
)
from sofno.notify.routing import dispatcher
from sofno.notify.testing.helpers import owner, set_profile
from sofno.notify.testing.smtp_server import SmtpServer


@pytest.fixture
def customer(cast):
    customer = Customer.objects.create(organization=cast.org, name="Pizzeria Roma")
    customer.assigned_agents.add(cast.agent)
    return customer


def words(evaluation) -> list[str]:
    """An evaluation's reasons in English words."""
    with translation.override("en"):
        return [reasons.text(r) for r in evaluation.reasons]


def make_device(cast, customer, name):
    from sofno.monitoring import actions

    device, _key = actions.create_device(
        acting_user=owner(cast), customer=customer, fields={"name": name}
    )
    return device


def offline(cast, device):
    return emit(cast.org, "device.offline", f"device:{device.public_id}", device_data(device))


def rule(cast, name, **fields):
    defaults = {
        "event_types": ["device.offline"],
        "recipients": [{"kind": "assigned_agents"}],
        "channels": ["email"],
    }
    return NotificationRule.objects.create(organization=cast.org, name=name, **defaults | fields)


def route(cast):
    while dispatcher.dispatch_organization(cast.org.pk):
        pass


def test_it_lets_a_device_rule_override_its_customers_rule(cast, customer):
    till1, till2 = make_device(cast, customer, "Till 1"), make_device(cast, customer, "Till 2")
    rule(cast, "Customer rule", scope="customer", customer=customer, channels=["email"])
    rule(cast, "Till 1 rule", scope="device", device=till1, channels=["sms"])
    rule(cast, "Everyone", recipients=[{"kind": "role", "value": "owner"}], channels=[])
    first, second = offline(cast, till1), offline(cast, till2)
    route(cast)

    verdicts = {e.rule_name: e for e in RuleEvaluation.objects.filter(event=first)}
    assert verdicts["Till 1 rule"].matched
    assert not verdicts["Customer rule"].matched
    assert words(verdicts["Customer rule"])[-1] == "overridden by the device rule Till 1 rule"
    assert verdicts["Everyone"].matched  # organization rules always apply

    verdicts = {e.rule_name: e for e in RuleEvaluation.objects.filter(event=second)}
    assert verdicts["Customer rule"].matched
    assert "customer is Pizzeria Roma" in words(verdicts["Customer rule"])
    assert not verdicts["Till 1 rule"].matched
    assert verdicts["Till 1 rule"].reasons[-1] == {"code": reasons.OTHER_DEVICE}
    assert words(verdicts["Till 1 rule"])[-1] == "the event is about another device"


def test_it_checks_conditions_and_ticket_status_changes(cast, customer):
    device = make_device(cast, customer, "Till 1")
    rule(cast, "Only Till 9", conditions=[{"token": "device_name", "op": "eq", "value": "Till 9"}])
    rule(cast, "To closed", event_types=["ticket.status_changed"], ticket_status_to="closed")
    event = offline(cast, device)
    ticket = emit(
        cast.org,
        "ticket.status_changed",
        "ticket:x",
        {"status": {"slug": "in_progress", "name": "In progress"}, "customer": {"id": "x"}},
    )
    route(cast)
    (only,) = RuleEvaluation.objects.filter(event=event, rule_name="Only Till 9")
    assert not only.matched and reasons.code_of(only.reasons[-1]) == reasons.CONDITION_NO
    assert words(only)[-1] == 'device_name is "Till 9": no (it is "Till 1")'
    (closed,) = RuleEvaluation.objects.filter(event=ticket)
    assert not closed.matched and words(closed)[-1] == "ticket status is not closed"
    assert not Delivery.objects.exclude(channel="webhook").exists()


def test_it_emails_the_assigned_agent_and_rings_their_bell(cast, customer, smtp):
    device = make_device(cast, customer, "Till 1")
    rule(cast, "Offline tills")
    event = offline(cast, device)
    route(cast)
    channels = sorted(
        Delivery.objects.filter(event=event)
        .exclude(channel="webhook")
        .values_list("channel", "recipient_user__username")
    )
    assert channels == [("email", "adam"), ("inapp", "adam")]
    machinery.deliver_all(max_seconds=10)

    (received,) = smtp.messages
    assert received.rcpt_tos == ["adam@example.com"]
    message = received.message
    assert message["Subject"] == "[SOFNO] Till 1 (Pizzeria Roma) is offline"
    assert "the device's name: Till 1" in message.get_body(("plain",)).get_content()
    delivery = Delivery.objects.get(event=event, channel="email")
    assert message["Message-ID"] == f"<{delivery.public_id}@sofno>"
    assert delivery.status == DeliveryStatus.SUCCEEDED

    item = InboxItem.objects.get(user=cast.agent)
    assert item.title == "Till 1 (Pizzeria Roma) is offline"
    assert item.url == f"/devices/{device.public_id}/" or item.url.endswith(f"{event.public_id}/")


def test_it_uses_the_recipients_language_and_the_templates_profile(cast, customer, smtp):
    set_profile(cast.agent, language="it")
    with SmtpServer() as other:
        profile = SmtpProfile.objects.create(
            organization=cast.org,
            name="Italia",
            host="127.0.0.1",
            port=other.port,
            from_address="avvisi@acme.test",
        )
        Template.objects.create(
            organization=cast.org,
            name="Offline (it)",
            event_type="device.offline",
            channel="email",
            language="it",
            subject="{{ device_name }} non risponde",
            text_body="Ciao {{ recipient.name }}, {{ device_name }} di {{ customer_name }}.",
            html_body="<p>{{ device_name }}</p>",
            cc=["desk@acme.test"],
            bcc=["archive@acme.test"],
            smtp_profile=profile,
        )
        rule(
            cast,
            "Offline tills",
            recipients=[{"kind": "assigned_agents"}, {"kind": "role", "value": "owner"}],
        )
        offline(cast, make_device(cast, customer, "Till 1"))
        route(cast)
        machinery.deliver_all(max_seconds=10)
        POOL.close_all()
        (italian,) = other.messages
        assert italian.message["Subject"] == "Till 1 non risponde"
        assert italian.message["Cc"] == "desk@acme.test"
        assert sorted(italian.rcpt_tos) == [
            "adam@example.com",
            "archive@acme.test",
            "desk@acme.test",
        ]
        assert (
            "Ciao adam, Till 1 di Pizzeria Roma."
            in italian.message.get_body(("plain",)).get_content()
        )
    (english,) = smtp.messages  # the owner has no profile: English, default template
    assert english.rcpt_tos == ["olivia@example.com"]
    assert english.message["Subject"] == "[SOFNO] Till 1 (Pizzeria Roma) is offline"


def test_it_falls_back_to_the_default_profile_when_the_templates_fails(cast, customer, smtp):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    broken = SmtpProfile.objects.create(
        organization=cast.org,
        name="Broken",
        host="127.0.0.1",
        port=dead_port,
        from_address="x@acme.test",
    )
    Template.objects.create(
        organization=cast.org,
        name="Offline",
        event_type="device.offline",
        channel="email",
        subject="Down: {{ device_name }}",
        text_body="x",
        smtp_profile=broken,
    )
    rule(cast, "Offline tills")
    event = offline(cast, make_device(cast, customer, "Till 1"))
    route(cast)
    machinery.deliver_all(max_seconds=10)
    (received,) = smtp.messages
    assert received.message["Subject"] == "Down: Till 1"
    attempt = Attempt.objects.get(delivery__event=event, delivery__channel="email")
    assert attempt.ok and "sent through the default profile" in attempt.detail


def test_it_defers_to_the_end_of_quiet_hours_and_says_why(cast, customer, smtp):
    set_profile(
        user=cast.agent,
        timezone="Europe/Rome",
        quiet_hours={"ranges": [{"day": d, "start": "00:00", "end": "08:00"} for d in range(7)]},
    )
    at = dt.datetime(2026, 6, 10, 1, 0, tzinfo=dt.UTC)  # 03:00 in Rome
    with time_machine.travel(at, tick=False):
        rule(cast, "Offline tills")
        event = offline(cast, make_device(cast, customer, "Till 1"))
        route(cast)
        machinery.deliver_all(max_seconds=10)
    email = Delivery.objects.select_related("message").get(event=event, channel="email")
    assert email.status == DeliveryStatus.PENDING
    assert email.next_attempt_at == dt.datetime(2026, 6, 10, 6, 0, tzinfo=dt.UTC)
    assert email.message.deferred_code == reasons.DEFERRED_QUIET
    assert email.message.deferred_reason == ""  # the words are made when read
    assert email.message.deferred_text == "deferred until 10/06/2026 08:00 CEST: adam's quiet hours"
    assert smtp.messages == []
    # The bell is silent, so it is not deferred.
    assert Delivery.objects.get(event=event, channel="inapp").status == DeliveryStatus.SUCCEEDED
    with time_machine.travel(dt.datetime(2026, 6, 10, 6, 0, 1, tzinfo=dt.UTC), tick=False):
        machinery.deliver_all(max_seconds=10)
    assert len(smtp.messages) == 1


def test_it_shows_why_a_delivery_waits_in_the_readers_language(cast, customer, smtp):
    set_profile(
        user=cast.agent,
        timezone="Europe/Rome",
        quiet_hours={"ranges": [{"day": d, "start": "00:00", "end": "08:00"} for d in range(7)]},
    )
    set_profile(user=cast.viewer, language="es", timezone="Europe/Madrid")
    at = dt.datetime(2026, 6, 10, 1, 0, tzinfo=dt.UTC)  # 03:00 in Rome
    with time_machine.travel(at, tick=False):
        rule(cast, "Offline tills")
        event = offline(cast, make_device(cast, customer, "Till 1"))
        route(cast)
    client = Client()
    client.force_login(cast.viewer)
    page = client.get(f"/notifications/events/{event.public_id}/")
    assert page.status_code == 200
    text = html.unescape(page.content.decode())
    # Written by the worker in no language; read in Spanish, the date as Spain writes it.
    assert "aplazado hasta el 10/06/2026 08:00 CEST: horas de silencio de adam" in text
    assert "el tipo de evento device.offline está seleccionado" in text
    assert "envíos: 2; destinatarios: 1" in text
    assert "deferred" not in text and "quiet hours" not in text and "is selected" not in text
    # The API answers in the caller's language too, with the code to match on.
    api = client.get(f"/api/v1/events/{event.public_id}/routing")
    email = next(d for d in api.json()["deliveries"] if d["channel"] == "email")
    assert email["deferred_code"] == reasons.DEFERRED_QUIET
    assert email["deferred_reason"].startswith("aplazado hasta el 10/06/2026 08:00 CEST")
    (verdict,) = api.json()["evaluations"]
    assert verdict["reason_codes"][0] == reasons.TYPE_SELECTED
    assert verdict["reasons"][0] == "el tipo de evento device.offline está seleccionado"


def test_it_goes_to_the_next_person_in_quiet_hours_when_the_rule_says_so(cast, customer, smtp):
    set_profile(
        user=cast.agent,
        quiet_hours={"ranges": [{"day": d, "start": "00:00", "end": "24:00"} for d in range(7)]},
    )
    rule(
        cast,
        "Next",
        recipients=[{"kind": "assigned_agents"}, {"kind": "user", "value": "olivia"}],
        quiet_action="next",
    )
    event = offline(cast, make_device(cast, customer, "Till 1"))
    route(cast)
    emails = Delivery.objects.filter(event=event, channel="email")
    assert list(emails.values_list("address", flat=True)) == ["olivia@example.com"]
    (evaluation,) = RuleEvaluation.objects.filter(event=event)
    assert "adam is in quiet hours: next person" in words(evaluation)


def test_it_falls_back_to_the_configured_person_when_nobody_is_on_call(cast, customer):
    rule(cast, "On call", recipients=[{"kind": "on_call"}], channels=[], fallback_user=cast.owner)
    event = offline(cast, make_device(cast, customer, "Till 1"))
    route(cast)
    (evaluation,) = RuleEvaluation.objects.filter(event=event)
    assert {"code": reasons.ON_CALL_FALLBACK} in evaluation.reasons
    assert "nobody on call: the fallback person instead" in words(evaluation)
    assert Delivery.objects.get(event=event).recipient_user == cast.owner


def test_it_ignores_events_older_than_the_rule_and_routes_each_event_once(cast, customer):
    device = make_device(cast, customer, "Till 1")
    offline(cast, device)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=5)):
        rule(cast, "Offline tills", channels=[])
        event = offline(cast, device)
        route(cast)
        route(cast)
    assert Delivery.objects.exclude(channel="webhook").count() == 1
    assert Delivery.objects.exclude(channel="webhook").get().event == event
