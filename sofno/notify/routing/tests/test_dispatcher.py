"""One dispatcher: one cursor per organization, webhook endpoints and rules planned
together, and the migration that merged the two cursors it replaced."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sofno.events.emit import emit
from sofno.events.models import Event
from sofno.notify.channels.webhook import actions
from sofno.notify.models import Delivery, DispatchCursor, NotificationRule, RuleEvaluation
from sofno.notify.routing import dispatcher

BEFORE = [("notify", "0004_alert_held_notifications")]
AFTER = [("notify", "0005_one_dispatch_cursor")]


def test_it_plans_webhooks_and_rules_from_one_cursor_in_one_pass(cast, owner_actor, receiver):
    endpoint = actions.create_endpoint(acting_user=owner_actor, fields={"url": receiver.url})
    rule = NotificationRule.objects.create(
        organization=cast.org,
        name="Tell Adam about new customers",
        event_types=["customer.created"],
        recipients=[{"kind": "user", "value": cast.agent.username}],
        channels=["inapp"],
    )
    event = emit(cast.org, "customer.created", "customer:c1", {"name": "Pizzeria Roma"})
    assert dispatcher.lagging_organizations() == [cast.org.pk]
    while dispatcher.dispatch_organization(cast.org.pk):
        pass
    assert Delivery.objects.filter(event=event, endpoint=endpoint).count() == 1
    to_adam = Delivery.objects.filter(event=event, endpoint=None, recipient_user=cast.agent)
    assert list(to_adam.values_list("channel", flat=True)) == ["inapp"]
    assert RuleEvaluation.objects.get(event=event, rule=rule).matched
    last = Event.objects.filter(organization=cast.org).order_by("-sequence").first()
    assert DispatchCursor.objects.get(organization=cast.org).last_sequence == last.sequence
    # Read once: nothing is planned twice, however often the dispatcher runs.
    assert dispatcher.dispatch_organization(cast.org.pk) == 0
    assert dispatcher.dispatch_pending() == 0
    assert Delivery.objects.filter(event=event).count() == 2
    assert RuleEvaluation.objects.filter(event=event).count() == 1


def test_it_gives_an_endpoint_one_delivery_per_event_when_the_cursor_moves_back(
    cast, owner_actor, receiver
):
    endpoint = actions.create_endpoint(acting_user=owner_actor, fields={"url": receiver.url})
    event = emit(cast.org, "customer.created", "customer:c1", {})
    dispatcher.dispatch_pending()
    # As the merge migration does when the rules had read less than the webhooks.
    DispatchCursor.objects.filter(organization=cast.org).update(last_sequence=0)
    assert dispatcher.dispatch_organization(cast.org.pk) >= 1
    assert Delivery.objects.filter(event=event, endpoint=endpoint).count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_merges_the_two_cursors_and_splits_them_back(cast):
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        third = old.get_model("core", "Organization").objects.create(slug="initech", name="I")
        old.get_model("notify", "NotificationRule").objects.create(
            organization_id=cast.org.pk, name="On", event_types=["*"], channels=["inapp"]
        )
        dispatch = old.get_model("notify", "DispatchCursor").objects
        rules = old.get_model("notify", "RulesCursor").objects
        # acme has an enabled rule and its rules read less: the one cursor goes back.
        dispatch.create(organization_id=cast.org.pk, last_sequence=10)
        rules.create(organization_id=cast.org.pk, last_sequence=7)
        # globex has no rule: its webhooks' place is kept.
        dispatch.create(organization_id=cast.other_org.pk, last_sequence=10)
        rules.create(organization_id=cast.other_org.pk, last_sequence=4)
        # initech was only ever routed.
        rules.create(organization_id=third.pk, last_sequence=3)

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        merged = dict(DispatchCursor.objects.values_list("organization_id", "last_sequence"))
        assert merged == {cast.org.pk: 7, cast.other_org.pk: 10, third.pk: 3}

        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        split = old.get_model("notify", "RulesCursor").objects
        assert dict(split.values_list("organization_id", "last_sequence")) == merged
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
