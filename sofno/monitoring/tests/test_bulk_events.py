"""The event log under a mass outage's load: many events in one ``emit_many``."""

import datetime as dt

from sofno.events.emit import NewEvent, emit_many
from sofno.events.models import Event


def test_it_records_a_large_batch_with_ids_payloads_and_consecutive_sequences(cast):
    emit_many(cast.org, [NewEvent("device.online", "device:first")])
    moment = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
    batch = [
        NewEvent(
            "device.offline",
            f"device:{n}",
            {"n": n, "name": f"Caisse «{n}» ü", "nested": {"list": [1, None, "x"]}, "ok": True},
            occurred_at=moment + dt.timedelta(seconds=n),
        )
        for n in range(300)
    ]
    rows = emit_many(cast.org, batch)
    stored = {e.pk: e for e in Event.objects.filter(type="device.offline")}
    assert len(stored) == 300
    first = rows[0].sequence
    assert [r.sequence for r in rows] == list(range(first, first + 300))
    for n, row in enumerate(rows):
        found = stored[row.pk]  # the returned rows carry their real ids
        assert found.sequence == row.sequence
        assert found.subject == f"device:{n}" == found.ordering_key
        assert found.payload == batch[n].data
        assert found.occurred_at == moment + dt.timedelta(seconds=n)
        assert found.public_id == row.public_id
        assert found.recorded_at == row.recorded_at
    # The next emit continues the sequence without a gap.
    (after,) = emit_many(cast.org, [NewEvent("device.online", "device:last")])
    assert after.sequence == first + 300
