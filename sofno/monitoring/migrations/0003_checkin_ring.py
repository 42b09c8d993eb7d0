"""Check-in history becomes a ring of the latest check-ins per device.

Existing history keeps each device's latest RING rows (numbered oldest first into
their slots); older rows go. The window functions and ``UPDATE ... FROM`` used here
run on PostgreSQL and on SQLite 3.33 or newer.
"""

import django.db.models.deletion
from django.db import migrations, models

RING = 20  # SOFNO_CHECKIN_HISTORY's default; the prune trims to another size later.
FILLFACTOR = 70


def to_ring(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM monitoring_checkin WHERE id IN (SELECT id FROM ("
            " SELECT id, row_number() OVER (PARTITION BY device_id ORDER BY at DESC, id DESC)"
            " AS newest FROM monitoring_checkin) AS ranked WHERE newest > %s)",
            [RING],
        )
        cursor.execute(
            "UPDATE monitoring_checkin SET seq = ranked.n, slot = ranked.n %% %s FROM ("
            " SELECT id, row_number() OVER (PARTITION BY device_id ORDER BY at, id) AS n"
            " FROM monitoring_checkin) AS ranked WHERE ranked.id = monitoring_checkin.id",
            [RING],
        )
        cursor.execute(
            "UPDATE monitoring_device SET checkins_seen = (SELECT count(*)"
            " FROM monitoring_checkin WHERE device_id = monitoring_device.id)"
        )


def leave_room_for_updates(apps, schema_editor):
    # Every check-in rewrites a slot without touching an indexed column: with room
    # left on each page PostgreSQL updates in place (HOT), so neither the table nor
    # its indexes grow with the updates.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE monitoring_checkin SET (fillfactor = {FILLFACTOR})")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE monitoring_checkin RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_alert_sites_and_outages"),
    ]

    operations = [
        migrations.AddField(
            model_name="checkin",
            name="facts",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="checkin",
            name="seq",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="checkin",
            name="slot",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="device",
            name="checkins_seen",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(to_ring, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="checkin",
            constraint=models.UniqueConstraint(
                fields=("device", "slot"), name="checkin_device_slot"
            ),
        ),
        migrations.RemoveIndex(
            model_name="checkin",
            name="checkin_device_at",
        ),
        migrations.RemoveIndex(
            model_name="checkin",
            name="checkin_at",
        ),
        migrations.AlterField(
            model_name="checkin",
            name="device",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="checkins",
                to="monitoring.device",
            ),
        ),
        migrations.RunPython(leave_room_for_updates, fill_pages),
    ]
