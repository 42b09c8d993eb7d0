"""Webhook fan-out and rule routing read the event log through one cursor.

Forward: each organization keeps its webhook cursor, moved back to the rules cursor
when the rules had read less and the organization has an enabled rule, so no event
goes unrouted; webhook deliveries of the events read again are not duplicated (one
per endpoint and event, a unique constraint the dispatcher inserts around).
Backward: the rules cursor is recreated at the one cursor's position.
"""

from django.db import migrations


def merge(apps, schema_editor):
    DispatchCursor = apps.get_model("notify", "DispatchCursor")
    RulesCursor = apps.get_model("notify", "RulesCursor")
    NotificationRule = apps.get_model("notify", "NotificationRule")
    with_rules = set(
        NotificationRule.objects.filter(enabled=True).values_list("organization_id", flat=True)
    )
    dispatch = dict(DispatchCursor.objects.values_list("organization_id", "last_sequence"))
    for organization_id, routed in RulesCursor.objects.values_list(
        "organization_id", "last_sequence"
    ):
        if organization_id not in dispatch:
            DispatchCursor.objects.create(organization_id=organization_id, last_sequence=routed)
        elif organization_id in with_rules and routed < dispatch[organization_id]:
            DispatchCursor.objects.filter(organization_id=organization_id).update(
                last_sequence=routed
            )


def split(apps, schema_editor):
    DispatchCursor = apps.get_model("notify", "DispatchCursor")
    RulesCursor = apps.get_model("notify", "RulesCursor")
    RulesCursor.objects.bulk_create(
        [
            RulesCursor(organization_id=c.organization_id, last_sequence=c.last_sequence)
            for c in DispatchCursor.objects.all()
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notify", "0004_alert_held_notifications"),
    ]

    operations = [
        migrations.RunPython(merge, split),
        migrations.DeleteModel(
            name="RulesCursor",
        ),
    ]
