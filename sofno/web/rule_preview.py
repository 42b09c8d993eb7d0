"""Who a rule, as filled in on the page and not saved, would have notified for the
latest event in the log that it matches.

Read-only: it builds an unsaved rule, asks the router's own public functions (the
rule verdict, the recipients, the alert policy, the delivery plan) and writes
nothing: no delivery, no evaluation, no hold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q

from sofno.core.models import Membership
from sofno.directory.models import Customer
from sofno.events.models import Event
from sofno.monitoring.models import Device
from sofno.notify.models import RULE_CHANNEL_CHOICES, HoldReason, NotificationRule
from sofno.notify.routing import planning, policy, recipients
from sofno.notify.rules import matching

# How many of the newest events of the chosen types are tried before giving up.
SCAN = 500


@dataclass
class Reach:
    """One person and the channels a message would have reached them on."""

    name: str
    channels: list[str] = field(default_factory=list)
    # (channel, until): a channel the person's quiet or business hours put off.
    deferred: list[tuple[str, dt.datetime]] = field(default_factory=list)


@dataclass
class Preview:
    """The answer shown on the page."""

    event: Event | None = None
    people: list[Reach] = field(default_factory=list)
    held: str = ""
    held_until: dt.datetime | None = None
    scanned: int = 0


def _type_filter(patterns: list[str]) -> Q:
    match = Q(pk__in=[])
    for pattern in patterns:
        if pattern == "*":
            return Q()
        if pattern.endswith(".*"):
            match |= Q(type__startswith=pattern[:-1])
        else:
            match |= Q(type=pattern)
    return match


def unsaved_rule(organization, data: dict) -> NotificationRule:
    """The rule the page describes, not saved, matching events of any age."""
    rule = NotificationRule(
        organization=organization,
        name=data.get("name") or "",
        event_types=list(data.get("event_types") or []),
        conditions=list(data.get("conditions") or []),
        ticket_status_from=data.get("ticket_status_from") or "",
        ticket_status_to=data.get("ticket_status_to") or "",
        scope=data.get("scope") or "organization",
        recipients=list(data.get("recipients") or []),
        channels=list(data.get("channels") or []),
        apprise_urls=list(data.get("apprise_urls") or []),
        quiet_action=data.get("quiet_action") or "defer",
        business_hours_only=bool(data.get("business_hours_only")),
        # A saved rule ignores events older than itself; the preview asks about the past.
        created_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
    )
    scoped = {"organization": organization}
    if data.get("customer"):
        rule.customer = Customer.objects.filter(**scoped, public_id=data["customer"]).first()
    if data.get("device"):
        rule.device = Device.objects.filter(**scoped, public_id=data["device"]).first()
    if data.get("fallback_user"):
        membership = (
            Membership.objects.filter(**scoped, public_id=data["fallback_user"])
            .select_related("user")
            .first()
        )
        rule.fallback_user = membership.user if membership else None
    return rule


def latest_match(rule: NotificationRule) -> tuple[Event | None, int]:
    """The newest event of the rule's organization that the rule matches, and how many
    events were tried."""
    candidates = (
        Event.objects.filter(organization=rule.organization)
        .filter(_type_filter(rule.event_types))
        .select_related("organization")
        .order_by("-sequence")[:SCAN]
    )
    tried = 0
    for event in candidates:
        tried += 1
        customer_id, device_id = matching.subject_ids(event)
        if matching.evaluate(rule, event, customer_id, device_id).matched:
            return event, tried
    return None, tried


def preview_rule(organization, data: dict) -> Preview:
    """Who the rule described by ``data`` (as ``rule_actions`` takes it) would have
    reached for its latest matching event, and anything the alert policy held."""
    rule = unsaved_rule(organization, data)
    event, tried = latest_match(rule)
    out = Preview(event=event, scanned=tried)
    if event is None:
        return out
    at = event.occurred_at or event.recorded_at
    customer = recipients.customer_of(organization, event)
    hold = policy.hold_for(event, at, customer)
    if hold is not None:
        label = HoldReason(hold.reason).label if hold.reason in HoldReason.values else ""
        out.held, out.held_until = str(label), hold.until
    people = recipients.resolve(
        rule.recipients, organization, event, at=at, fallback_user=rule.fallback_user,
        customer=customer,
    )  # fmt: skip
    # The router's reasons are its log's English; the page shows its own words.
    reasons: list[str] = []
    planned = planning.plan_deliveries(event, rule, people, rule.channels, reasons, at=at)
    channel_names = dict(RULE_CHANNEL_CHOICES)
    by_person: dict[str, Reach] = {}
    for delivery, message in planned:
        reach = by_person.setdefault(message.recipient_name, Reach(message.recipient_name))
        name = str(channel_names.get(delivery.channel, delivery.channel))
        if name not in reach.channels:
            reach.channels.append(name)
        if message.deferred_code:
            reach.deferred.append((name, delivery.next_attempt_at))
    for person in people.people:  # named but reachable on no channel
        by_person.setdefault(person.name, Reach(person.name))
    out.people = list(by_person.values())
    return out
