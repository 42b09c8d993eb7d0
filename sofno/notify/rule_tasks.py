"""Queue tasks and loops of rule routing and escalation.

As for webhooks, the queue only wakes work up: the ``notify.rules`` loop finds any
organization whose log is ahead of its rules cursor, and ``notify.escalation``
takes every escalation step that is due, so a lost queue message delays a
notification by a second, never loses it.
"""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from sofno.core.queue import wake_once
from sofno.notify import escalation, policy, routing, tasks
from sofno.notify.models import NotificationRule


@db_task()
def route_task(organization_id: int) -> int:
    """Route an organization's new events through its rules, then send what is due."""
    total = read = routing.dispatch_rules(organization_id)
    while read == routing.BATCH:
        read = routing.dispatch_rules(organization_id)
        total += read
    if total:
        tasks.deliver_task()
    return total


def on_events_committed(events: list) -> None:
    """``events.on_committed`` listener: route each organization that emitted."""
    organizations = {e.organization_id for e in events}
    # Most commits (check-ins, ticket edits) come from organizations with no rule for
    # them; skip the queue round-trip unless the organization has any enabled rule.
    with_rules = set(
        NotificationRule.objects.filter(organization_id__in=organizations, enabled=True)
        .values_list("organization_id", flat=True)
        .distinct()
    )
    # Monitoring's own health reaches the admins even without a rule.
    admins = {e.organization_id for e in events if e.type in policy.ADMIN_EVENTS}
    for organization_id in sorted(with_rules | admins):
        wake_once(route_task, organization_id)  # one pending per organization


def reconcile() -> None:
    """The ``notify.rules`` loop: route organizations whose log is ahead of the cursor,
    and release (or drop) held notifications whose hold has ended."""
    for organization_id in routing.pending_organizations():
        wake_once(route_task, organization_id)  # one pending per organization
    if routing.release_due():
        tasks.deliver_task()


def escalate() -> None:
    """The ``notify.escalation`` loop: take due escalation steps."""
    escalation.tick()
