import datetime as dt

import pytest
import time_machine

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


def test_it_holds_the_alert_outside_business_hours_until_they_start(make_device, customer):
    # Open Monday to Friday 09:00-18:00 in Rome.
    customer.timezone = "Europe/Rome"
    customer.business_hours = {
        "ranges": [{"day": d, "start": "09:00", "end": "18:00"} for d in range(5)]
    }
    customer.save()
    device, key = make_device(checkin_interval=60, grace=30)
    saturday = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)
    with at(saturday):
        checkin.handle(key, None, None)
    with at(saturday + dt.timedelta(minutes=5)):
        tick()
    incident = Incident.objects.get(device=device)
    assert incident.alerted_at is None
    assert incident.suppressed_reason == "outside_business_hours"
    monday_open = dt.datetime(2026, 1, 12, 8, 0, tzinfo=dt.UTC)  # 09:00 in Rome
    assert incident.alert_due_at == monday_open
    assert "incident.alert" not in types()
    with at(monday_open - dt.timedelta(seconds=1)):
        tick()
    assert "incident.alert" not in types()
    with at(monday_open + dt.timedelta(seconds=1)):
        tick()
    incident.refresh_from_db()
    assert incident.alerted_at is not None
    assert types().count("incident.alert") == 1


def test_it_never_alerts_when_the_device_recovers_before_hours_start(make_device, customer):
    customer.business_hours = {"ranges": [{"day": 0, "start": "09:00", "end": "18:00"}]}
    customer.save()
    device, key = make_device(checkin_interval=60, grace=30)
    sunday = dt.datetime(2026, 1, 11, 12, 0, tzinfo=dt.UTC)
    with at(sunday):
        checkin.handle(key, None, None)
    with at(sunday + dt.timedelta(minutes=5)):
        tick()
    with at(sunday + dt.timedelta(hours=1)):
        checkin.handle(key, None, None)
    monday = dt.datetime(2026, 1, 12, 10, 0, tzinfo=dt.UTC)
    with at(monday - dt.timedelta(seconds=10)):
        checkin.handle(key, None, None)
    with at(monday):
        tick()
    assert "incident.alert" not in types()
    assert Incident.objects.get(device=device).status == IncidentStatus.RESOLVED


def test_it_holds_alerts_during_maintenance_and_sends_them_when_it_ends(
    online, owner_actor, customer
):
    with at(MONDAY_10):
        window = actions.create_maintenance(
            acting_user=owner_actor,
            customer=customer,
            ends_at=MONDAY_10 + dt.timedelta(hours=1),
            reason="Router swap",
        )
    with at(MONDAY_10 + dt.timedelta(minutes=5)):
        tick()
    incident = Incident.objects.get(device=online)
    assert incident.alerted_at is None
    assert incident.suppressed_reason == "maintenance"
    assert incident.alert_due_at == window.ends_at
    with at(MONDAY_10 + dt.timedelta(minutes=59)):
        tick()
    assert "incident.alert" not in types()
    with at(MONDAY_10 + dt.timedelta(minutes=60, seconds=1)):
        tick()
    assert types().count("incident.alert") == 1


def test_it_sends_the_held_alert_when_maintenance_is_ended_early(online, owner_actor):
    with at(MONDAY_10):
        window = actions.create_maintenance(
            acting_user=owner_actor,
            device=online,
            ends_at=MONDAY_10 + dt.timedelta(hours=3),
            reason="Disk swap",
        )
    with at(MONDAY_10 + dt.timedelta(minutes=5)):
        tick()
        assert "incident.alert" not in types()
    with at(MONDAY_10 + dt.timedelta(minutes=30)):
        actions.end_maintenance(acting_user=owner_actor, window=window)
        tick()
    assert types().count("incident.alert") == 1


def test_it_tracks_without_alerting_when_alerts_are_off(online, customer):
    customer.alerts_enabled = False
    customer.save()
    with at(MONDAY_10 + dt.timedelta(minutes=5)):
        tick()
    incident = Incident.objects.get(device=online)
    assert incident.suppressed_reason == "alerts_disabled"
    assert incident.alert_due_at is None
    assert "incident.alert" not in types()
    assert "device.offline" in types()


def test_it_does_not_alert_an_acknowledged_incident_later(make_device, customer, owner_actor):
    customer.business_hours = {"ranges": [{"day": 0, "start": "09:00", "end": "18:00"}]}
    customer.save()
    device, key = make_device(checkin_interval=60, grace=30)
    sunday = dt.datetime(2026, 1, 11, 12, 0, tzinfo=dt.UTC)
    with at(sunday):
        checkin.handle(key, None, None)
    with at(sunday + dt.timedelta(minutes=5)):
        tick()
        actions.acknowledge_incident(
            acting_user=owner_actor, incident=Incident.objects.get(device=device)
        )
    with at(dt.datetime(2026, 1, 12, 10, 0, tzinfo=dt.UTC)):
        tick()
    assert "incident.alert" not in types()
    assert "incident.acknowledged" in types()


def test_it_flips_a_mass_outage_in_bulk_with_one_event_and_incident_per_device(
    make_device, customer
):
    devices = [make_device(f"Till {n}", checkin_interval=60, grace=30)[0] for n in range(25)]
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
        assert incident.title == f"{device.name} ({customer.name}) is offline"
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


def test_it_sends_the_held_alert_when_alerts_are_turned_back_on(
    online, customer, django_capture_on_commit_callbacks
):
    customer.alerts_enabled = False
    customer.save()
    with at(MONDAY_10 + dt.timedelta(minutes=5)):
        tick()
    incident = Incident.objects.get(device=online)
    assert incident.suppressed_reason == "alerts_disabled"
    with at(MONDAY_10 + dt.timedelta(minutes=10)):
        tick()
        assert "incident.alert" not in types()
    with at(MONDAY_10 + dt.timedelta(minutes=20)):
        # The customer.updated event (committed) is what re-plans the alert.
        with django_capture_on_commit_callbacks(execute=True):
            customer.alerts_enabled = True
            customer.save()
        assert "customer.updated" in types()
        incident.refresh_from_db()
        assert incident.suppressed_reason == ""
        assert incident.alert_due_at == MONDAY_10 + dt.timedelta(minutes=20)
        tick()
    incident.refresh_from_db()
    assert incident.alerted_at == MONDAY_10 + dt.timedelta(minutes=20)
    assert types().count("incident.alert") == 1
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert kinds == ["opened", "suppressed", "suppressed", "alert"]


def test_it_keeps_holding_a_re_enabled_alert_outside_business_hours(
    online, customer, django_capture_on_commit_callbacks
):
    customer.alerts_enabled = False
    customer.business_hours = {"ranges": [{"day": 0, "start": "09:00", "end": "10:30"}]}
    customer.save()
    with at(MONDAY_10 + dt.timedelta(minutes=5)):
        tick()
    with at(MONDAY_10 + dt.timedelta(hours=2)):  # Monday 12:00 UTC: closed until next week
        with django_capture_on_commit_callbacks(execute=True):
            customer.alerts_enabled = True
            customer.save()
        tick()
    incident = Incident.objects.get(device=online)
    assert incident.alerted_at is None
    assert incident.suppressed_reason == "outside_business_hours"
    assert incident.alert_due_at == dt.datetime(2026, 1, 12, 9, 0, tzinfo=dt.UTC)
    assert "incident.alert" not in types()


def test_it_leaves_resolved_incidents_alone_when_alerts_come_back(
    online, customer, django_capture_on_commit_callbacks
):
    customer.alerts_enabled = False
    customer.save()
    with at(MONDAY_10 + dt.timedelta(minutes=5)):
        tick()
    with at(MONDAY_10 + dt.timedelta(minutes=6)):
        checkin.handle(online.key, None, None)
    with at(MONDAY_10 + dt.timedelta(minutes=7)):
        with django_capture_on_commit_callbacks(execute=True):
            customer.alerts_enabled = True
            customer.save()
        tick()
    assert "incident.alert" not in types()


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
