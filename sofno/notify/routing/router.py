"""Rule routing: events -> matching rules -> planned deliveries, and held ones released.

Rules:
- the dispatcher (``notify.routing.dispatcher``) hands it each event once, in the same
  transaction as the cursor it advances and the webhook deliveries it plans;
- records every rule's verdict on every event it considered (``RuleEvaluation``);
- whether and when anything about a customer or device may go out is the alert
  policy's decision (``notify.routing.policy``): a held rule records why and is released (or
  dropped) when the hold ends (:func:`release_due`);
- who gets what on which channel is planned by ``notify.routing.planning`` (shared with
  escalation, which this module starts and stops);
- the deliveries are then sent by the one delivery machinery (``notify.delivery.machinery``).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sofno.core.channels import Channel
from sofno.events.models import Event
from sofno.notify import reasons as why
from sofno.notify.escalation import chain as escalation
from sofno.notify.models import (
    HeldNotification,
    HoldStatus,
    RuleEvaluation,
)
from sofno.notify.routing import planning, policy, recipients
from sofno.notify.rule_models import ADMINS_RULE_NAME
from sofno.notify.rules import matching as rules

log = logging.getLogger(__name__)

INCIDENT_STOP_TYPES = ("incident.acknowledged", "incident.resolved", "incident.merged")


def deliver_rule(event: Event, rule, reasons: list, *, at: dt.datetime) -> int:
    """Plan and save the deliveries of one matched rule, and start its escalation;
    returns how many deliveries were written."""
    people = recipients.resolve(
        rule.recipients or [],
        event.organization,
        event,
        at=at,
        fallback_user=rule.fallback_user,
        customer=planning.event_customer(event),
    )
    reasons.extend(people.notes)
    planned = planning.plan_deliveries(
        event, rule, people, list(rule.channels or []), reasons, at=at
    )
    count = planning.save_planned(planned)
    reasons.append(why.reason(why.DELIVERIES_PLANNED, count=count, people=len(people.people)))
    if rule.escalation_policy_id:
        reasons.append(escalation.start(rule, event))
    return count


def _tell_admins(event: Event, at: dt.datetime) -> RuleEvaluation:
    """Monitoring's own health goes to the organization's admins, rule or not."""
    reasons: list = [why.reason(why.ADMINS_BUILT_IN)]
    people = recipients.resolve(
        [{"kind": "role", "value": "admin"}], event.organization, event, at=at
    )
    reasons.extend(people.notes)
    count = planning.save_planned(
        planning.plan_deliveries(
            event, None, people, [Channel.EMAIL, Channel.INAPP], reasons, at=at
        )
    )
    reasons.append(why.reason(why.DELIVERIES_PLANNED, count=count, people=len(people.people)))
    return RuleEvaluation(
        organization_id=event.organization_id,
        event=event,
        rule=None,
        rule_name=ADMINS_RULE_NAME,
        matched=True,
        reasons=reasons,
        deliveries=count,
    )


def route_event(event: Event, rule_list: list) -> list[RuleEvaluation]:
    """Evaluate every rule on ``event`` and plan the deliveries of those that match,
    unless the alert policy holds them (then each held rule is recorded with why)."""
    now = timezone.now()
    at = max(event.occurred_at, now) if event.occurred_at else now
    evaluations = []
    holds: list[tuple[RuleEvaluation, policy.Hold]] = []
    if event.type in INCIDENT_STOP_TYPES:
        escalation.stop_for_event(event)
    policy.note_event(event, now)
    if event.type in policy.ADMIN_EVENTS:
        evaluations.append(_tell_admins(event, at))
    verdicts = rules.evaluate_all(rule_list, event)
    matched = any(v.matched for v in verdicts)
    held = policy.hold_for(event, at, planning.event_customer(event)) if matched else None
    for verdict in verdicts:
        rule = verdict.rule
        count = 0
        if verdict.matched and held is not None:
            verdict.reasons.append(held.entry(why.HELD))
        elif verdict.matched:
            count = deliver_rule(event, rule, verdict.reasons, at=at)
        # Rules that do not select this event type at all would only be noise.
        if verdict.matched or why.code_of(verdict.reasons[0]) == why.TYPE_SELECTED:
            evaluation = RuleEvaluation(
                organization_id=event.organization_id,
                event=event,
                rule=rule,
                rule_name=rule.name,
                matched=verdict.matched,
                reasons=verdict.reasons,
                deliveries=count,
            )
            evaluations.append(evaluation)
            if verdict.matched and held is not None:
                holds.append((evaluation, held))
    RuleEvaluation.objects.bulk_create(evaluations)
    HeldNotification.objects.bulk_create([policy.hold(event, e.rule, e, h) for e, h in holds])
    return evaluations


def release_due(now: dt.datetime | None = None, limit: int = policy.RELEASE_BATCH) -> int:
    """Release or drop the held notifications whose hold has ended; returns how many
    were decided. Each row is locked (``SKIP LOCKED``) so two workers never send one
    twice; a hold that still applies (a window extended) is moved, not released."""
    now = now or timezone.now()
    decided = 0
    with transaction.atomic(), planning.caching():
        rows = list(
            HeldNotification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=HoldStatus.HELD, release_at__lte=now)
            .select_related("event__organization", "rule", "evaluation")
            .order_by("release_at")[:limit]
        )
        for row in rows:
            decided += _decide(row, now)
    return decided


def _decide(row: HeldNotification, now: dt.datetime) -> int:
    event, rule = row.event, row.rule
    notes: list = []
    again = policy.hold_for(event, now)
    if again is not None:
        HeldNotification.objects.filter(pk=row.pk).update(
            reason=again.reason, params=again.params, detail="", release_at=again.until
        )
        _note(row, again.entry(why.STILL_HELD))
        return 0
    if rule is None or not rule.enabled:
        status, code, count = HoldStatus.DROPPED, why.RULE_GONE, 0
        outcome = why.reason(code)
    else:
        ok, code = policy.still_true(event)
        if ok:
            count = deliver_rule(event, rule, notes, at=now)
            status = HoldStatus.RELEASED
            outcome = why.reason(why.HOLD_RELEASED, why=why.reason(code))
        else:
            status, count = HoldStatus.DROPPED, 0
            outcome = why.reason(why.HOLD_DROPPED, why=why.reason(code))
    HeldNotification.objects.filter(pk=row.pk).update(
        status=status, outcome_code=code, outcome="", finished_at=now
    )
    _note(row, outcome, notes, count)
    return 1


def _note(row: HeldNotification, words, notes: list = (), count: int = 0) -> None:
    """Tell the event's routing page what became of a hold."""
    if row.evaluation_id is None:
        return
    evaluation = RuleEvaluation.objects.filter(pk=row.evaluation_id).first()
    if evaluation is None:
        return
    reasons = [*evaluation.reasons, words, *notes]
    RuleEvaluation.objects.filter(pk=evaluation.pk).update(
        reasons=reasons, deliveries=F("deliveries") + count
    )
