"""Events remember which customer they are about, so customer users see only theirs."""

from django.db import migrations, models


def fill_customer(apps, schema_editor):
    """Give the events already recorded their customer (same rule as at emit time)."""
    from sofno.events.scope import customer_of

    Event = apps.get_model("events", "Event")
    batch = []
    rows = Event.objects.only("pk", "subject", "payload", "source")
    for event in rows.iterator(chunk_size=2000):
        found = customer_of(event.subject, event.payload, event.source)
        if found is not None:
            event.customer_ref = found
            batch.append(event)
        if len(batch) >= 2000:
            Event.objects.bulk_update(batch, ["customer_ref"])
            batch = []
    if batch:
        Event.objects.bulk_update(batch, ["customer_ref"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_alter_organization_timezone"),
        ("events", "0002_consumer_customeventtype_timetrigger_triggerdue_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="customer_ref",
            field=models.UUIDField(blank=True, editable=False, null=True, verbose_name="customer"),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                fields=["organization", "customer_ref", "sequence"], name="event_org_customer_seq"
            ),
        ),
        migrations.RunPython(fill_customer, migrations.RunPython.noop),
    ]
