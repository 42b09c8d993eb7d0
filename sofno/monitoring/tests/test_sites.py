"""A site outage is one incident; our own outage is not the customers'; start-up grace."""

import datetime as dt

import pytest
import time_machine
from django.utils import translation

from sofno.core.testing import field_errors
from sofno.directory.models import Customer
from sofno.events.models import Event
from sofno.monitoring import checkin
from sofno.monitoring.actions import startup_grace
from sofno.monitoring.models import (
    CustomerMonitoring,
    Device,
    DeviceStatus,
    Incident,
    IncidentStatus,
    MonitoringDefaults,
    SiteMember,
    SuspectedOutage,
)
from sofno.monitoring.sweeper import tick
from sofno.notify.models import Delivery, HeldNotification, NotificationRule
from sofno.notify.routing import dispatcher
from sofno.notify.routing import router as routing

MONDAY_10 = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)


def at(moment):
    return time_machine.travel(moment, tick=False)


def types():
    return list(Event.objects.order_by("sequence").values_list("type", flat=True))


def seconds(n):
    return MONDAY_10 + dt.timedelta(seconds=n)


@pytest.fixture
def cafe(cast, make_device):
    """Café Central: four tills on a 60 s interval with 30 s grace, all checked in."""
    customer = Customer.objects.create(organization=cast.org, name="Café Central")
    tills = []
    for n in range(1, 5):
        device, key = make_device(f"Till {n}", customer=customer, checkin_interval=60, grace=30)
        device.key = key
        tills.append(device)
    with at(MONDAY_10):
        for device in tills:
            checkin.handle(device.key, None, None)
    return tills


def test_it_opens_one_site_incident_when_every_computer_goes_silent(cafe):
    with at(seconds(91)):
        assert tick() == 4
    site = Incident.objects.get(kind="site")
    assert site.title == "Café Central is down (4 of 4 computers offline)"
    assert (site.devices_down, site.devices_total) == (4, 4)
    assert site.alerted_at == seconds(91)  # nobody left online: no reason to wait
    assert Incident.objects.count() == 1
    assert SiteMember.objects.filter(incident=site).count() == 4
    assert types().count("incident.alert") == 1
    assert types().count("site.down") == 1
    assert types().count("device.offline") == 4
    down = Event.objects.get(type="site.down")
    assert down.subject == f"customer:{site.customer.public_id}"
    assert down.payload["device_names"] == "Till 1, Till 2, Till 3, Till 4"
    assert (down.payload["devices_down"], down.payload["devices_total"]) == (4, 4)


def test_it_keeps_a_lone_silent_computer_a_device_incident(cafe):
    lone, others = cafe[0], cafe[1:]
    with at(seconds(91)):
        for device in others:
            checkin.handle(device.key, None, None)
        tick()
    incident = Incident.objects.get()
    assert incident.kind == "device" and incident.device == lone
    assert incident.alerted_at is None  # its siblings still check in: group wait
    with at(seconds(125)):
        for device in others:
            checkin.handle(device.key, None, None)
        tick()
    incident.refresh_from_db()
    assert incident.alerted_at == seconds(125)
    assert types().count("incident.alert") == 1
    assert not Incident.objects.filter(kind="site").exists()


def test_it_merges_a_waiting_device_incident_and_attaches_later_computers(cafe):
    first, second, third, fourth = cafe
    with at(seconds(60)):  # the third and fourth check in later: later deadlines
        checkin.handle(third.key, None, None)
        checkin.handle(fourth.key, None, None)
    with at(seconds(91)):
        checkin.handle(second.key, None, None)
        tick()  # the first alone: a device incident waiting for its siblings
    own = Incident.objects.get(device=first)
    with at(seconds(100)):
        assert tick() == 0
    with at(seconds(151)):  # the third and fourth fall silent now; second still fine
        checkin.handle(second.key, None, None)
        tick()
    site = Incident.objects.get(kind="site")
    own.refresh_from_db()
    assert own.status == IncidentStatus.RESOLVED and own.merged_into == site
    assert (site.devices_down, site.devices_total) == (3, 4)
    assert site.alerted_at is None  # the second still checks in: wait
    assert "incident.merged" in types()
    with at(seconds(181)):  # the group wait is over: one alert for the site
        tick()
    site.refresh_from_db()
    assert site.alerted_at == seconds(181)
    with at(seconds(242)):  # the second falls silent later: it attaches, no new alert
        tick()
    site.refresh_from_db()
    assert site.title == "Café Central is down (4 of 4 computers offline)"
    assert types().count("site.device_down") == 1
    assert types().count("incident.alert") == 1  # one alert for the whole site
    kinds = list(site.timeline.values_list("kind", flat=True))
    assert kinds[:2] == ["opened", "merged"] and "device_down" in kinds
    with translation.override("it"):
        joined = own.timeline.get(kind="merged").text
        merged = site.timeline.get(kind="merged").text
        down = site.timeline.get(kind="device_down").text
    assert joined == "Unito a: Café Central è fuori servizio (3 computer su 4 offline)"
    assert merged == "L'incidente di Till 1 si è unito a questo."
    assert down == "Anche Till 2 è andato offline (4 su 4)."


def test_it_alerts_a_waiting_site_at_once_when_its_last_computer_falls_silent(cafe):
    fourth = cafe[3]
    with at(seconds(10)):  # the fourth checks in later: a later deadline
        checkin.handle(fourth.key, None, None)
    with at(seconds(91)):
        tick()  # three silent, the fourth still online: the site waits
    site = Incident.objects.get(kind="site")
    assert site.alerted_at is None
    with at(seconds(101)):  # the fourth falls silent well inside the 30 s group wait
        tick()
    site.refresh_from_db()
    assert site.alerted_at == seconds(101)
    assert (site.devices_down, site.devices_total) == (4, 4)
    assert types().count("incident.alert") == 1


def test_it_resolves_the_site_when_every_computer_is_back(cafe):
    with at(seconds(91)):
        tick()
    site = Incident.objects.get(kind="site")
    with at(seconds(200)):
        checkin.handle(cafe[0].key, None, None)
    site.refresh_from_db()
    assert site.status == IncidentStatus.OPEN and site.devices_down == 3
    assert site.title == "Café Central is down (3 of 4 computers offline)"
    assert types()[-1] == "site.device_up"
    with at(seconds(210)):
        for device in cafe[1:]:
            checkin.handle(device.key, None, None)
    site.refresh_from_db()
    assert site.status == IncidentStatus.RESOLVED and site.auto_resolved
    assert types()[-2:] == ["site.up", "incident.resolved"]
    kinds = list(site.timeline.values_list("kind", flat=True))
    assert kinds.count("device_up") == 3 and kinds[-2:] == ["recovered", "resolved"]


def test_it_tells_the_site_timeline_in_the_readers_language(cafe):
    with at(seconds(91)):
        tick()
    with at(seconds(200)):
        checkin.handle(cafe[0].key, None, None)
    with at(seconds(210)):
        for device in cafe[1:]:
            checkin.handle(device.key, None, None)
    site = Incident.objects.get(kind="site")
    entries = list(site.timeline.all())
    # Codes and values, read back as a dict, no stored sentence.
    assert entries[0].params == {
        "say": "site_opened",
        "n": 4,
        "names": "Till 1, Till 2, Till 3, Till 4",
    }
    assert all(e.params["say"] and not e.message for e in entries)
    english = [e.text for e in entries]
    assert english == [
        "4 computers offline together: Till 1, Till 2, Till 3, Till 4.",
        "No computer of this customer is left online: alert now.",
        "Till 1 is back (3 of 4 still offline).",
        "Till 2 is back (2 of 4 still offline).",
        "Till 3 is back (1 of 4 still offline).",
        "Till 4 is back: every computer is online again.",
        "Resolved automatically on recovery.",
    ]
    with translation.override("es"):
        spanish = [e.text for e in entries]
        title = site.display_title
    assert spanish[0] == "4 equipos desconectados a la vez: Till 1, Till 2, Till 3, Till 4."
    assert spanish[2] == "Till 1 ha vuelto (3 de 4 siguen desconectados)."
    assert spanish[-1] == "Resuelta automáticamente al recuperarse."
    assert not set(spanish) & set(english)
    assert title == "Café Central sin servicio (0 de 4 equipos desconectados)"
    assert site.title == "Café Central is down (1 of 4 computers offline)"  # events' English


def test_it_follows_the_customers_own_site_window(cafe, owner_actor, cast):
    from sofno.monitoring import actions

    customer = cafe[0].customer
    actions.set_customer_monitoring(
        acting_user=owner_actor, customer=customer, fields={"site_window": 10}
    )
    with at(seconds(30)):
        for device in cafe[1:]:
            checkin.handle(device.key, None, None)
    with at(seconds(91)):
        tick()  # Till 1 alone
    with at(seconds(121)):
        tick()  # the others together 30 s later: outside the customer's 10 s window
    site = Incident.objects.get(kind="site")
    assert site.devices_down == 3
    own = Incident.objects.get(device=cafe[0])
    assert own.status == IncidentStatus.OPEN and own.merged_into is None
    assert MonitoringDefaults.objects.get_or_create(organization=cast.org)[0].site_window == 120


def test_it_sets_the_site_window_through_the_api(cast, api_client, customer):
    api = api_client(cast.key)
    answer = api.put(
        "/monitoring/defaults", {"checkin_interval": 300, "grace": 60, "site_window": 180}
    )
    assert answer.status_code == 200 and answer.json()["site_window"] == 180
    answer = api.put(f"/customers/{customer.public_id}/monitoring", {"site_window": 45})
    assert answer.status_code == 200 and answer.json()["site_window"] == 45
    assert CustomerMonitoring.objects.get(customer=customer).site_window == 45
    bad = api.put("/monitoring/defaults", {"checkin_interval": 300, "grace": 60, "site_window": -1})
    assert bad.status_code == 422 and "site_window" in field_errors(bad)


# --- our own outage ------------------------------------------------------------------


@pytest.fixture
def many(cast, make_device):
    """Ten customers with two computers each, all checked in at MONDAY_10."""
    keys = []
    for n in range(10):
        customer = Customer.objects.create(organization=cast.org, name=f"Bar {n}")
        for m in range(2):
            _device, key = make_device(f"PC {m}", customer=customer, checkin_interval=60, grace=30)
            keys.append(key)
    with at(MONDAY_10):
        for key in keys:
            checkin.handle(key, None, None)
    return keys


def test_it_suspects_our_own_outage_and_tells_only_the_admins(cast, many):
    with at(MONDAY_10):
        NotificationRule.objects.create(
            organization=cast.org,
            name="Alerts to Adam",
            event_types=["incident.alert", "device.offline", "site.down"],
            recipients=[{"kind": "user", "value": cast.agent.username}],
            channels=["email"],
        )
    with at(seconds(91)):
        for key in many[:4]:  # two customers still fine: 16 of 20 silent
            checkin.handle(key, None, None)
        assert tick() == 16
        outage = SuspectedOutage.objects.get(ended_at__isnull=True)
        assert (outage.silent, outage.total, outage.customers) == (16, 20, 8)
        while dispatcher.dispatch_organization(cast.org.pk):
            pass
    degraded = Event.objects.get(type="monitoring.degraded")
    to_admins = Delivery.objects.filter(event=degraded)
    assert {d.recipient_user for d in to_admins} == {cast.owner}  # acme's only admin
    customer_events = Event.objects.exclude(type__startswith="monitoring.")
    assert not Delivery.objects.filter(event__in=customer_events).exists()
    held = HeldNotification.objects.all()
    assert held.count() == 16 + 8 + 8  # each device.offline, each site's down and alert
    assert {h.reason for h in held} == {"our_outage"}
    # Check-ins return: the suspicion ends and the held alerts are dropped.
    with at(seconds(120)):
        for key in many:
            checkin.handle(key, None, None)
        tick()
        assert SuspectedOutage.objects.get().ended_at == seconds(120)
        assert "monitoring.recovered" in types()
        while dispatcher.dispatch_organization(cast.org.pk):
            pass
        assert routing.release_due() == 32
    assert {h.status for h in HeldNotification.objects.all()} == {"dropped"}
    assert not Delivery.objects.filter(event__in=customer_events).exists()


def test_it_does_not_suspect_us_for_a_few_customers(cast, many):
    with at(seconds(91)):
        for key in many[6:]:  # three customers silent: 6 of 20
            checkin.handle(key, None, None)
        tick()
    assert not SuspectedOutage.objects.exists()


# --- start-up grace --------------------------------------------------------------------


def test_it_gives_overdue_devices_a_full_interval_after_downtime(cafe, monkeypatch):
    monkeypatch.setenv("SOFNO_SWEEPER_DOWNTIME", "60")
    with at(seconds(10)):
        tick()  # the sweeper runs...
    # ...then the server is down for ten minutes: every deadline passes meanwhile.
    back = seconds(610)
    with at(back):
        assert tick() == 0
    assert not Device.objects.filter(status=DeviceStatus.OFFLINE).exists()
    for device in Device.objects.all():
        assert device.alert_after == back + dt.timedelta(seconds=90)
    with at(back + dt.timedelta(seconds=60)):
        checkin.handle(cafe[0].key, None, None)
        tick()
    with at(back + dt.timedelta(seconds=91)):
        assert tick() == 3  # the silent ones, a full interval later
    assert not Incident.objects.filter(device=cafe[0]).exists()


def test_it_grants_the_grace_once_among_workers(cafe, monkeypatch):
    monkeypatch.setenv("SOFNO_SWEEPER_DOWNTIME", "60")
    with at(seconds(10)):
        startup_grace()
    with at(seconds(610)):
        assert startup_grace() == 4
        assert startup_grace() == 0
