"""From incidents: a rule opens a ticket when an incident stays unacknowledged."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from sofno.core.access import Actor
from sofno.core.models import Role
from sofno.events.emit import emit
from sofno.monitoring.actions import acknowledge_incident, incident_data
from sofno.notify.models import NotificationRule
from sofno.notify.routing import dispatcher
from sofno.notify.rules.ticket_rules import open_incident_tickets
from sofno.notify.testing.helpers import device_with_incident
from sofno.tickets.models import Ticket


def owner(cast) -> Actor:
    return Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)


def alert(cast, device, incident):
    emit(cast.org, "device.offline", f"device:{device.public_id}", incident_data(incident, device))
    while dispatcher.dispatch_organization(cast.org.pk):
        pass


@pytest.fixture
def rule(cast):
    return NotificationRule.objects.create(
        organization=cast.org,
        name="Offline: ticket after 30 minutes",
        event_types=["device.offline"],
        recipients=[{"kind": "role", "value": "owner"}],
        channels=[],
        open_ticket_after_minutes=30,
    )


def test_it_opens_one_linked_ticket_after_the_delay(cast, client, rule):
    device, incident = device_with_incident(cast)
    alert(cast, device, incident)
    now = timezone.now()
    assert open_incident_tickets(now + dt.timedelta(minutes=29)) == 0
    assert open_incident_tickets(now + dt.timedelta(minutes=31)) == 1
    assert open_incident_tickets(now + dt.timedelta(minutes=40)) == 0  # once only
    ticket = Ticket.objects.get(incident=incident)
    assert ticket.customer == device.customer and ticket.title == incident.title
    assert "Offline: ticket after 30 minutes" in ticket.description
    assert list(incident.tickets.all()) == [ticket]
    client.force_login(cast.owner)
    page = client.get(f"/tickets/{ticket.public_id}/").content.decode()
    assert f"/incidents/{incident.public_id}/" in page


def test_it_runs_from_the_worker_loop_with_the_clock(cast, rule):
    from sofno.core.hooks import LOOPS

    device, incident = device_with_incident(cast)
    alert(cast, device, incident)
    tick = LOOPS["notify.incident_tickets"].tick
    tick()
    assert not Ticket.objects.exists()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=31)):
        tick()
    assert Ticket.objects.get().incident == incident


def test_it_opens_nothing_for_an_acknowledged_incident_or_other_rules(cast, rule):
    device, incident = device_with_incident(cast)
    alert(cast, device, incident)
    acknowledge_incident(acting_user=owner(cast), incident=incident)
    other_device, other = device_with_incident(cast, name="Till 2")
    rule.event_types = ["device.online"]  # the second incident's event is not this rule's
    rule.save()
    alert(cast, other_device, other)
    assert open_incident_tickets(timezone.now() + dt.timedelta(hours=2)) == 0
    assert not Ticket.objects.exists()


def test_the_rules_api_sets_and_clears_the_option(cast, api_client, rule):
    client = api_client(cast.key)
    path = f"/notification-rules/{rule.public_id}"
    response = client.patch(path, {"open_ticket_after_minutes": 15})
    assert response.status_code == 200, response.json()
    assert response.json()["open_ticket_after_minutes"] == 15
    assert client.patch(path, {"open_ticket_after_minutes": -1}).status_code == 422
    assert client.patch(path, {"open_ticket_after_minutes": 0}).status_code == 200
    rule.refresh_from_db()
    assert rule.open_ticket_after_minutes == 0
