"""A small world for the dashboard's tests: one customer with a computer offline and
an open incident, a ticket assigned to the agent, and a published on-call week."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from sofno.directory.models import Customer
from sofno.monitoring.models import Device, DeviceStatus, Incident, OfflinePeriod
from sofno.oncall.models import Assignment, Person, Timetable, TimetableStatus
from sofno.tickets.models import Ticket, TicketStatus

# Three turns cover every minute of a day, so a turn is running whenever the test runs.
TURNS = ["00:00-08:00", "08:00-16:00", "16:00-24:00"]


@dataclass
class World:
    shop: Customer
    till: Device
    incident: Incident
    ticket: Ticket
    person: Person


def make_device(customer: Customer, name: str, **fields) -> Device:
    return Device.objects.create(
        organization=customer.organization,
        customer=customer,
        name=name,
        key_prefix=name[:8],
        key_hash=uuid.uuid4().hex * 2,  # unique, as real key hashes are
        **fields,
    )


def publish_weeks(org, person: Person) -> None:
    """This week and next, every day, ``person`` on every turn."""
    local = timezone.now().astimezone(ZoneInfo(org.timezone))
    monday = local.date() - dt.timedelta(days=local.weekday())
    for week in (monday, monday + dt.timedelta(days=7)):
        timetable = Timetable.objects.create(
            organization=org,
            week_start=week,
            turns=TURNS,
            days=list(range(7)),
            lines=[[1, 1, 1]] * 7,
            status=TimetableStatus.PUBLISHED,
        )
        Assignment.objects.bulk_create(
            Assignment(timetable=timetable, day=day, turn=turn, person=person)
            for day in range(7)
            for turn in range(3)
        )


def build(cast) -> World:
    shop = Customer.objects.create(organization=cast.org, name="Trattoria Da Mario")
    now = timezone.now()
    till = make_device(shop, "Till 1", status=DeviceStatus.OFFLINE)
    make_device(shop, "Back office", status=DeviceStatus.ONLINE)
    OfflinePeriod.objects.create(
        organization=cast.org, device=till, started_at=now - dt.timedelta(minutes=7)
    )
    incident = Incident.objects.create(
        organization=cast.org,
        device=till,
        title="Till 1 is offline",
        opened_at=now - dt.timedelta(minutes=3),
    )
    open_status = TicketStatus.objects.create(organization=cast.org, slug="t-open", name="Open")
    ticket = Ticket.objects.create(
        organization=cast.org, number=41, customer=shop, title="Printer jams", status=open_status
    )
    ticket.technicians.add(cast.agent)
    cast.agent.first_name, cast.agent.last_name = "Giulia", "Rossi"
    cast.agent.save(update_fields=["first_name", "last_name"])
    person = Person.objects.create(organization=cast.org, user=cast.agent, extension="201")
    publish_weeks(cast.org, person)
    return World(shop, till, incident, ticket, person)
