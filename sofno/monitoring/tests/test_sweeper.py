import datetime as dt

import pytest
import time_machine
from django.utils import translation

from sofno.directory.models import Customer
from sofno.events.models import Event
from sofno.monitoring import actions, checkin
from sofno.monitoring.models import (
    CustomerMonitoring,
    Device,
    DeviceStatus,
    Incident,
    IncidentStatus,
    OfflinePeriod,
)
from sofno.monitoring.sweeper import tick

# Monday 5 January 2026, 10:00 UTC (11:00 in Rome).
MONDAY_10 = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)


def at(moment):
    return time_machine.travel(moment, tick=False)


def types():
    return list(Event.objects.order_by("sequence").values_list("type", flat=True))


@pytest.fixture
def online(make_device):
    """A device that checked in at MONDAY_10 with a 60 s interval and 30 s grace."""
    device, key = make_device(checkin_interval=60, grace=30)
    with at(MONDAY_10):
        assert checkin.handle(key, "10.0.0.5", None).status == 200
    device.refresh_from_db()
    device.key = key
    return device


def test_it_inherits_interval_and_grace_org_customer_device(owner_actor, make_device, customer):
    actions.set_defaults(acting_user=owner_actor, fields={"checkin_interval": 600, "grace": 60})
    device, _ = make_device()
    assert (device.effective_interval, device.effective_grace) == (600, 60)
    actions.set_customer_monitoring(
        acting_user=owner_actor, customer=customer, fields={"checkin_interval": 120, "grace": None}
    )
    device.refresh_from_db()
    assert (device.effective_interval, device.effective_grace) == (120, 60)
    actions.update_device(acting_user=owner_actor, device=device, fields={"grace": 5})
    device.refresh_from_db()
    assert (device.effective_interval, device.effective_grace) == (120, 5)
    assert CustomerMonitoring.objects.get(customer=customer).checkin_interval == 120


def test_it_leaves_a_device_alone_before_its_deadline(online):
    with at(MONDAY_10 + dt.timedelta(seconds=89)):
        assert tick() == 0
    online.refresh_from_db()
    assert online.status == DeviceStatus.ONLINE


def test_it_flips_an_overdue_device_and_opens_an_incident(online):
    with at(MONDAY_10 + dt.timedelta(seconds=91)):
        assert tick() == 1
        assert tick() == 0  # claimed once only
    online.refresh_from_db()
    assert online.status == DeviceStatus.OFFLINE
    incident = Incident.objects.get(device=online)
    assert incident.status == IncidentStatus.OPEN
    assert incident.alerted_at is not None
    period = OfflinePeriod.objects.get(device=online)
    assert period.started_at == MONDAY_10 + dt.timedelta(seconds=90)
    assert period.ended_at is None
    assert types()[-3:] == ["device.offline", "incident.opened", "incident.alert"]
    offline = Event.objects.get(type="device.offline")
    assert offline.occurred_at == MONDAY_10 + dt.timedelta(seconds=90)
    assert offline.payload["incident_id"] == str(incident.public_id)


def test_it_resolves_the_incident_when_the_device_checks_in_again(online):
    with at(MONDAY_10 + dt.timedelta(seconds=100)):
        tick()
    with at(MONDAY_10 + dt.timedelta(seconds=200)):
        assert checkin.handle(online.key, None, None).status == 200
    online.refresh_from_db()
    assert online.status == DeviceStatus.ONLINE
    incident = Incident.objects.get(device=online)
    assert incident.status == IncidentStatus.RESOLVED and incident.auto_resolved
    period = OfflinePeriod.objects.get(device=online)
    assert period.duration == dt.timedelta(seconds=110)
    assert types()[-2:] == ["device.online", "incident.resolved"]
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert kinds == ["opened", "alert", "recovered", "resolved"]


def test_it_damps_flapping_into_one_incident(online):
    moment = MONDAY_10
    for _ in range(4):
        moment += dt.timedelta(seconds=100)
        with at(moment):
            tick()
        moment += dt.timedelta(seconds=10)
        with at(moment):
            checkin.handle(online.key, None, None)
    assert Incident.objects.filter(device=online).count() == 1
    incident = Incident.objects.get(device=online)
    assert incident.flaps == 3
    assert types().count("incident.opened") == 1
    assert types().count("incident.alert") == 1
    assert types().count("device.offline") == 4
    assert OfflinePeriod.objects.filter(device=online).count() == 4
    entries = list(incident.timeline.all())
    assert [e.text for e in entries if e.kind in ("opened", "alert", "reopened")] == [
        "No check-in since the deadline.",
        "No other computer of this customer is online: alert now.",
        "Offline again (flap 1).",
        "Offline again (flap 2).",
        "Offline again (flap 3).",
    ]
    with translation.override("ca"):
        words = [e.text for e in entries if e.kind in ("opened", "reopened", "resolved")]
        title = incident.display_title
    assert words[:3] == [
        "Cap check-in des de la data límit.",
        "Resolta automàticament en recuperar-se.",
        "Desconnectat de nou (intermitència 1).",
    ]
    assert title == f"{online.name} ({online.customer.name}) està desconnectat"


def test_it_opens_a_new_incident_after_the_flap_window(online, owner_actor):
    with at(MONDAY_10 + dt.timedelta(seconds=100)):
        tick()
    later = MONDAY_10 + dt.timedelta(hours=2)
    with at(later):
        checkin.handle(online.key, None, None)
    # Stable for longer than the flap window (15 min), then silent again.
    stable = later + dt.timedelta(minutes=16)
    with at(stable):
        checkin.handle(online.key, None, None)
    with at(stable + dt.timedelta(seconds=100)):
        tick()
    assert Incident.objects.filter(device=online).count() == 2
    assert types().count("incident.alert") == 2


def test_it_records_facts_and_leaves_holding_back_to_the_notification_policy(
    online, owner_actor, customer
):
    # Maintenance and alerts off are the alert policy's business (notify.policy), at
    # routing time: monitoring records the incident and its alert all the same.
    customer.alerts_enabled = False
    customer.save()
    with at(MONDAY_10):
        actions.create_maintenance(
            acting_user=owner_actor,
            customer=customer,
            ends_at=MONDAY_10 + dt.timedelta(hours=1),
            reason="Router swap",
        )
    with at(MONDAY_10 + dt.timedelta(minutes=5)):
        tick()
    incident = Incident.objects.get(device=online)
    assert incident.alerted_at == MONDAY_10 + dt.timedelta(minutes=5)
    assert types()[-3:] == ["device.offline", "incident.opened", "incident.alert"]


def test_it_does_not_alert_an_incident_acknowledged_during_the_group_wait(make_device, owner_actor):
    first, key1 = make_device("Till 1", checkin_interval=60, grace=30)
    _second, key2 = make_device("Till 2", checkin_interval=60, grace=30)
    with at(MONDAY_10):
        checkin.handle(key1, None, None)
        checkin.handle(key2, None, None)
    with at(MONDAY_10 + dt.timedelta(seconds=91)):
        checkin.handle(key2, None, None)
        tick()  # Till 1 alone: its sibling still checks in, so the alert waits
    incident = Incident.objects.get(device=first)
    assert incident.alerted_at is None
    assert incident.alert_due_at == MONDAY_10 + dt.timedelta(seconds=121)
    with at(MONDAY_10 + dt.timedelta(seconds=100)):
        actions.acknowledge_incident(acting_user=owner_actor, incident=incident)
    with at(MONDAY_10 + dt.timedelta(seconds=130)):
        checkin.handle(key2, None, None)
        tick()
    assert "incident.alert" not in types()
    assert "incident.acknowledged" in types()


def test_it_flips_a_mass_outage_in_bulk_with_one_event_and_incident_per_device(make_device, cast):
    # 25 customers with one computer each (several of one customer would be a site).
    customers = [Customer.objects.create(organization=cast.org, name=f"C{n}") for n in range(25)]
    devices = [make_device("Till", customer=c, checkin_interval=60, grace=30)[0] for c in customers]
    # All silent since the same instant: every deadline passes together.
    Device.objects.filter(pk__in=[d.pk for d in devices]).update(
        status=DeviceStatus.ONLINE, last_checkin_at=MONDAY_10, alert_after=MONDAY_10
    )
    with at(MONDAY_10 + dt.timedelta(seconds=1)):
        # Batches smaller than the outage: several transactions, none flips twice.
        assert actions.sweep_offline(limit=10) == 10
        assert actions.sweep_offline(limit=10) == 10
        assert actions.sweep_offline(limit=10) == 5
        assert actions.sweep_offline(limit=10) == 0
    assert not Device.objects.filter(status=DeviceStatus.ONLINE).exists()
    offline = Event.objects.filter(type="device.offline")
    assert offline.count() == 25
    assert sorted(e.subject for e in offline) == sorted(f"device:{d.public_id}" for d in devices)
    assert Incident.objects.count() == 25
    assert Event.objects.filter(type="incident.opened").count() == 25
    assert Event.objects.filter(type="incident.alert").count() == 25
    assert OfflinePeriod.objects.filter(ended_at__isnull=True).count() == 25
    for device in devices:
        incident = Incident.objects.get(device=device)
        assert incident.title == f"{device.name} ({device.customer.name}) is offline"
        assert incident.opened_at == MONDAY_10
        event = offline.get(subject=f"device:{device.public_id}")
        assert event.payload["incident_id"] == str(incident.public_id)
        assert event.payload["device_name"] == device.name
        assert event.occurred_at == MONDAY_10
        kinds = list(incident.timeline.values_list("kind", flat=True))
        assert kinds == ["opened", "alert"]
    # Sequence numbers stay consecutive across the batches.
    sequences = list(Event.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))


def test_it_flips_a_device_as_its_deadline_passes_while_watching(make_device):
    from sofno.monitoring import sweeper

    device, _ = make_device()
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.4)
    Device.objects.filter(pk=device.pk).update(
        status=DeviceStatus.ONLINE, last_checkin_at=deadline, alert_after=deadline
    )
    assert sweeper.run() == 1  # one call of the loop: waits for the deadline, not a tick
    event = Event.objects.get(type="device.offline")
    assert event.occurred_at == deadline
    # Flipped close to the deadline, not up to a whole tick later.
    assert dt.timedelta(0) <= event.recorded_at - deadline < dt.timedelta(seconds=0.5)
