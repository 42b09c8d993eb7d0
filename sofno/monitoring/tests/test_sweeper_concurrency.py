import datetime as dt
import threading

import pytest
from django.db import connection

from sofno.events.models import Event
from sofno.monitoring import actions
from sofno.monitoring.models import Device, DeviceStatus, Incident, OfflinePeriod


@pytest.mark.django_db(transaction=True)
def test_it_flips_each_device_once_with_several_sweepers(make_device):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers itself; SKIP LOCKED is PostgreSQL's")
    devices = [make_device(f"Till {n}")[0] for n in range(60)]
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    Device.objects.filter(pk__in=[d.pk for d in devices]).update(
        status=DeviceStatus.ONLINE, alert_after=past, last_checkin_at=past
    )
    counts, start = [], threading.Barrier(4)

    def sweeper():
        from django.db import connections

        start.wait()
        try:
            total = 0
            while done := actions.sweep_offline(limit=7):
                total += done
            counts.append(total)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 60
    assert OfflinePeriod.objects.count() == 60
    # Sixty computers of one customer: one site incident, whichever worker opened it.
    assert Incident.objects.filter(kind="site").count() == 1
    assert Incident.objects.get(kind="site").devices_down == 60
    assert Event.objects.filter(type="device.offline").count() == 60
    assert not Device.objects.filter(status=DeviceStatus.ONLINE).exists()
