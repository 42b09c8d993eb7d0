"""The ticket notification settings, written as managed notification rules.

Settings > Tickets > Notifications (a status's five toggles) is not a separate
mailer: each toggle of a status that notifies is one rule on ``ticket.created`` and
``ticket.status_changed`` into that status, and one always-on rule pushes a ticket's
assignment to the technicians just added. The rules are ordinary rules (listed and
editable on the rules pages), marked ``managed_by="tickets"`` with a ``managed_key``
so regenerating finds them again: a regeneration switches them on or off and fixes
what they select, but keeps who they notify and how (the admin's edits).

They are written in the transaction of the tickets change that calls for them:
``ticket_status.created`` / ``ticket_status.updated`` regenerate them, the first
``ticket.created`` makes sure the always-on ones exist (handlers registered on
``events.emit.on_emitted`` in ``NotifyConfig.ready``).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from sofno.core.access import Actor
from sofno.core.channels import Channel
from sofno.core.models import Role
from sofno.events.models import Event
from sofno.monitoring.models import Incident, IncidentStatus
from sofno.notify.rule_models import NotificationRule, RuleEvaluation
from sofno.tickets.actions import open_ticket_for_incident
from sofno.tickets.models import TicketStatus

MANAGED_BY = "tickets"
ASSIGNED_KEY = "tickets:assigned"
ANSWERED_KEY = "tickets:answered"
PUSH = [Channel.INAPP, Channel.WEBPUSH]

# toggle -> (rule name suffix, recipients, channels). "Admins" is the engine's
# ``role: admin``, which counts owners as admins too.
TOGGLES: dict[str, tuple[str, list[dict], list[str]]] = {
    "email_admins": ("email admins", [{"kind": "role", "value": "admin"}], [Channel.EMAIL]),
    "email_customer": ("email the customer", [{"kind": "primary_contact"}], [Channel.EMAIL]),
    "email_technicians": ("email technicians", [{"kind": "technicians"}], [Channel.EMAIL]),
    "push_admins": ("push admins", [{"kind": "role", "value": "admin"}], PUSH),
    "push_technicians": ("push technicians", [{"kind": "technicians"}], PUSH),
}


def status_key(status, toggle: str) -> str:
    """The managed key of one status's toggle."""
    return f"tickets:status:{status.public_id}:{toggle}"


def _upsert(organization, key: str, *, name: str, enabled: bool, selects: dict, how: dict):
    rule = NotificationRule.objects.filter(organization=organization, managed_key=key).first()
    if rule is None:
        if not enabled:
            return None  # an unticked toggle needs no row
        return NotificationRule.objects.create(
            organization=organization,
            managed_by=MANAGED_BY,
            managed_key=key,
            name=name[:120],
            enabled=True,
            **selects,
            **how,
        )
    changed = {"enabled": enabled, **selects}
    if any(getattr(rule, field) != value for field, value in changed.items()):
        for field, value in changed.items():
            setattr(rule, field, value)
        rule.save(update_fields=[*changed, "updated_at"])
    return rule


def ensure_ticket_rules(organization) -> None:
    """The always-on rules exist (created once, then left to the admin)."""
    present = set(
        NotificationRule.objects.filter(
            organization=organization, managed_key__in=[ASSIGNED_KEY, ANSWERED_KEY]
        ).values_list("managed_key", flat=True)
    )
    if present != {ASSIGNED_KEY, ANSWERED_KEY}:
        sync_ticket_rules(organization)


STATUS_EVENTS = ("ticket_status.created", "ticket_status.updated")


def statuses_changed(events: list[Event]) -> None:
    """``on_emitted`` handler: a status was added or changed, regenerate the rules.

    A new status that notifies nobody needs no rules (an organization's default
    statuses are created that way).
    """
    if any(e.type == "ticket_status.updated" or e.payload["status"]["notify"] for e in events):
        sync_ticket_rules(events[0].organization)


def ticket_created(events: list[Event]) -> None:
    """``on_emitted`` handler: the assignment push is on from the first ticket, even
    for an organization that never saved its ticket settings."""
    ensure_ticket_rules(events[0].organization)


@transaction.atomic
def sync_ticket_rules(organization) -> list[NotificationRule]:
    """Write the organization's managed ticket rules from its statuses' toggles."""
    rules = []
    assigned = NotificationRule.objects.filter(
        organization=organization, managed_key=ASSIGNED_KEY
    ).first()
    if assigned is None:
        assigned = NotificationRule.objects.create(
            organization=organization,
            managed_by=MANAGED_BY,
            managed_key=ASSIGNED_KEY,
            name="Tickets: push the assignment to the technicians",
            event_types=["ticket.assigned"],
            recipients=[{"kind": "added_technicians"}],
            channels=PUSH,
        )
    rules.append(assigned)
    answered = NotificationRule.objects.filter(
        organization=organization, managed_key=ANSWERED_KEY
    ).first()
    if answered is None:
        # Staff's public answers reach the customer's contact; notes and the customer's
        # own messages do not.
        answered = NotificationRule.objects.create(
            organization=organization,
            managed_by=MANAGED_BY,
            managed_key=ANSWERED_KEY,
            name="Tickets: email public answers to the customer",
            event_types=["ticket.commented"],
            conditions=[
                {"token": "comment.public", "op": "eq", "value": True},
                {"token": "comment.by_customer", "op": "eq", "value": False},
            ],
            recipients=[{"kind": "primary_contact"}],
            channels=[Channel.EMAIL],
        )
    rules.append(answered)
    for status in TicketStatus.objects.filter(organization=organization):
        for toggle, (label, recipients, channels) in TOGGLES.items():
            rule = _upsert(
                organization,
                status_key(status, toggle),
                name=f"Tickets: {status.name}: {label}",
                enabled=status.notify and getattr(status, toggle),
                selects={
                    "event_types": ["ticket.created", "ticket.status_changed"],
                    "ticket_status_to": status.slug,
                },
                how={"recipients": recipients, "channels": list(channels)},
            )
            if rule is not None:
                rules.append(rule)
    return rules


def open_incident_tickets(now: dt.datetime | None = None) -> int:
    """Open a ticket for every incident left unacknowledged past a rule's limit.

    A rule with ``open_ticket_after_minutes`` covers the incidents whose events it
    matched; the incident must still be open (neither acknowledged nor resolved)
    and have no ticket yet. Returns how many tickets were opened.
    """
    now = now or timezone.now()
    opened = 0
    rules = NotificationRule.objects.filter(
        enabled=True, open_ticket_after_minutes__gte=1
    ).select_related("organization")
    for rule in rules:
        cutoff = now - dt.timedelta(minutes=rule.open_ticket_after_minutes)
        incident_ids = {
            str(value)
            for value in RuleEvaluation.objects.filter(
                rule=rule, matched=True, event__recorded_at__gte=cutoff - dt.timedelta(days=7)
            )
            .exclude(holds__status="held")  # the alert policy holds it (maintenance, ...)
            .values_list("event__payload__incident_id", flat=True)
            if value
        }
        if not incident_ids:
            continue
        due = (
            Incident.objects.filter(
                organization=rule.organization,
                public_id__in=incident_ids,
                status=IncidentStatus.OPEN,
                opened_at__lte=cutoff,
                tickets__isnull=True,
            )
            .select_related("device__customer")
            .order_by("opened_at")
        )
        # The organization itself acts (no person): the history shows no actor.
        system = Actor(organization=rule.organization, role=Role.OWNER)
        reason = (
            f"Opened by the rule {rule.name!r}: unacknowledged for "
            f"{rule.open_ticket_after_minutes} minutes."
        )
        for incident in due:
            if open_ticket_for_incident(acting_user=system, incident=incident, reason=reason):
                opened += 1
    return opened
