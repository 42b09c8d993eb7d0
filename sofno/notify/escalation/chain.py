"""Escalation: an incident's chain of steps, frozen when it starts, stopped by any ack.

Rules:
- the policy is copied onto the run (``snapshot``) when the incident's alert first
  matches a rule with a policy: editing the policy later never disturbs a running
  chain;
- a step notifies its recipients on its channels, then waits ``wait_minutes``; after
  the last step the chain repeats up to ``repeat`` times, then is exhausted;
- any acknowledgement or resolution stops it, however it came (web, API, keypress,
  SMS reply): every one goes through ``monitoring.actions`` and emits
  ``incident.acknowledged`` / ``incident.resolved``, which the rule router hands to
  :func:`stop_for_event`; the loop also checks the incident before each step, so
  a stop is never missed; deliveries of the run not yet sent are cancelled;
- steps are claimed by compare-and-set on (status, step, round), so two workers
  never take the same step;
- a step whose subject the alert policy holds (``notify.routing.policy``: maintenance,
  alerts off, our outage, business hours) waits until the hold ends.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from sofno.events.models import Event
from sofno.monitoring.models import Incident, IncidentStatus
from sofno.notify import reasons as why
from sofno.notify.delivery import tasks
from sofno.notify.models import (
    Delivery,
    DeliveryMessage,
    DeliveryStatus,
    EscalationRun,
    RunStatus,
)
from sofno.notify.routing import planning, policy, recipients

LOOP_BATCH = 100
# How soon a step held with no known end (alerts off, our outage) is looked at again.
HELD_RECHECK = dt.timedelta(minutes=5)


def start(rule, event: Event) -> dict[str, Any]:
    """Start the rule's escalation for the incident of ``event``; returns a reason
    (``notify.reasons``)."""
    incident_id = (event.payload or {}).get("incident_id")
    if not incident_id:
        return why.reason(why.ESCALATION_NO_INCIDENT)
    incident = Incident.objects.filter(
        organization_id=event.organization_id, public_id=incident_id
    ).first()
    if incident is None or incident.status != IncidentStatus.OPEN:
        return why.reason(why.ESCALATION_NOT_OPEN)
    policy = rule.escalation_policy
    run, created = EscalationRun.objects.get_or_create(
        incident=incident,
        rule=rule,
        defaults={
            "organization_id": event.organization_id,
            "event": event,
            "policy": policy,
            "snapshot": policy.snapshot(),
            "next_at": timezone.now(),
        },
    )
    if not created:
        return why.reason(why.ESCALATION_RUNNING, step=run.step + 1)
    take_step(run, timezone.now())
    return why.reason(why.ESCALATION_STARTED, policy=policy.name)


def _incident_open(run: EscalationRun) -> str:
    """Empty while the run's incident is open, else why to stop (a reason code)."""
    status = (
        type(run.incident)
        .objects.filter(pk=run.incident_id)
        .values_list("status", flat=True)
        .first()
    )
    if status == IncidentStatus.OPEN:
        return ""
    return {
        IncidentStatus.ACKNOWLEDGED: why.STOPPED_INCIDENT_ACKNOWLEDGED,
        IncidentStatus.RESOLVED: why.STOPPED_INCIDENT_RESOLVED,
    }.get(status, why.STOPPED_INCIDENT_DELETED)


def stop(run: EscalationRun, code: str, params: dict[str, Any] | None = None) -> bool:
    """Stop a run (compare-and-set) and cancel its deliveries not yet sent; ``code``
    and ``params`` say why (``notify.reasons``), shown on the cancelled deliveries."""
    now = timezone.now()
    stopped = EscalationRun.objects.filter(pk=run.pk, status=RunStatus.ACTIVE).update(
        status=RunStatus.STOPPED,
        stopped_code=code,
        stopped_params=params or {},
        stopped_reason="",
        finished_at=now,
        next_at=None,
    )
    if stopped:
        pending = DeliveryMessage.objects.filter(escalation=run).values("delivery_id")
        # No detail: the routing page reads why from the run, in the reader's language.
        Delivery.objects.filter(pk__in=pending, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.CANCELLED, finished_at=now, last_detail=""
        )
    return bool(stopped)


def stop_for_event(event: Event) -> int:
    """An incident was acknowledged or resolved: stop its running escalations."""
    incident_id = (event.payload or {}).get("incident_id")
    if not incident_id:
        return 0
    who = str((event.payload or {}).get("by") or "")
    code = {
        "incident.acknowledged": why.STOPPED_ACKNOWLEDGED,
        "incident.merged": why.STOPPED_MERGED,
    }.get(event.type, why.STOPPED_RESOLVED)
    runs = EscalationRun.objects.filter(
        organization_id=event.organization_id,
        incident__public_id=incident_id,
        status=RunStatus.ACTIVE,
    )
    return sum(stop(run, code, {"person": who} if who else {}) for run in runs)


SILENCE_MINUTES = 30


def silence(organization_id: int, incident_public_id: str, minutes: int = SILENCE_MINUTES) -> int:
    """Hold an incident's escalations for ``minutes`` (keypad 3): nothing is sent
    before then, neither the next step nor a step's deliveries still waiting."""
    until = timezone.now() + dt.timedelta(minutes=minutes)
    runs = list(
        EscalationRun.objects.filter(
            organization_id=organization_id,
            incident__public_id=incident_public_id,
            status=RunStatus.ACTIVE,
        )
    )
    for run in runs:
        if run.next_at is None or run.next_at < until:
            EscalationRun.objects.filter(pk=run.pk, status=RunStatus.ACTIVE).update(next_at=until)
        waiting = DeliveryMessage.objects.filter(escalation=run).values("delivery_id")
        Delivery.objects.filter(
            pk__in=waiting, status=DeliveryStatus.PENDING, next_attempt_at__lt=until
        ).update(next_attempt_at=until)
    return len(runs)


def take_step(run: EscalationRun, now: dt.datetime) -> bool:
    """Claim and perform the run's next step; returns whether this call did it."""
    with transaction.atomic(), planning.caching():
        reason = _incident_open(run)
        if reason:
            stop(run, reason)
            return False
        held = policy.hold_for(run.event, now)
        if held is not None:
            # The alert policy holds this subject now (a window began, alerts were
            # turned off): the step waits for the hold's end, re-checked then.
            EscalationRun.objects.filter(
                pk=run.pk, status=RunStatus.ACTIVE, step=run.step, round=run.round
            ).update(
                next_at=held.until or now + HELD_RECHECK,
                log=[*run.log, {"at": now.isoformat(), "held": held.reason, "params": held.params}],
            )
            return False
        steps = run.snapshot.get("steps") or []
        if not steps:
            EscalationRun.objects.filter(pk=run.pk, status=RunStatus.ACTIVE).update(
                status=RunStatus.EXHAUSTED, finished_at=now, next_at=None
            )
            return False
        step = steps[run.step]
        next_step, next_round = run.step + 1, run.round
        if next_step >= len(steps):
            next_step, next_round = 0, run.round + 1
        exhausted = next_round > int(run.snapshot.get("repeat") or 0)
        wait = dt.timedelta(minutes=float(step.get("wait_minutes") or 0))
        entry = {"at": now.isoformat(), "step": run.step + 1, "round": run.round + 1}
        claimed = EscalationRun.objects.filter(
            pk=run.pk, status=RunStatus.ACTIVE, step=run.step, round=run.round
        ).update(
            step=next_step,
            round=next_round,
            status=RunStatus.EXHAUSTED if exhausted else RunStatus.ACTIVE,
            next_at=None if exhausted else now + wait,
            finished_at=now if exhausted else None,
        )
        if not claimed:
            return False
        event = run.event
        people = recipients.resolve(
            step.get("recipients") or [],
            event.organization,
            event,
            at=now,
            fallback_user=run.rule.fallback_user if run.rule_id else None,
        )
        notes = list(people.notes)
        planned = planning.plan_deliveries(
            event,
            run.rule,
            people,
            list(step.get("channels") or []),
            notes,
            at=now,
            escalation=run,
        )
        entry.update(people=[p.name for p in people.people], deliveries=len(planned), notes=notes)
        planning.save_planned(planned)
        run.refresh_from_db(fields=["log"])
        EscalationRun.objects.filter(pk=run.pk).update(log=[*run.log, entry])
    return True


def tick(now: dt.datetime | None = None) -> int:
    """The ``notify.escalation`` loop: take every due step; returns steps taken."""
    now = now or timezone.now()
    due = list(
        EscalationRun.objects.filter(status=RunStatus.ACTIVE, next_at__lte=now)
        .select_related("event__organization", "rule__fallback_user", "incident")
        .order_by("next_at")[:LOOP_BATCH]
    )
    taken = sum(take_step(run, now) for run in due)
    if taken:
        tasks.deliver_task()
    return taken
