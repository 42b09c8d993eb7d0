"""Incidents: alerts coming due, acknowledgement and resolution (recovery: ``recovery``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from sofno.core.access import Actor
from sofno.events.emit import NewEvent, emit, emit_many
from sofno.monitoring.actions.payloads import (
    SYSTEM,
    actor_label,
    incident_data,
    incident_subject,
    site_data,
)
from sofno.monitoring.errors import field_error
from sofno.monitoring.models import (
    OPEN_STATUSES,
    Incident,
    IncidentEntry,
    IncidentStatus,
    SiteMember,
    TimelineKind,
)
from sofno.monitoring.words import Say, say


def send_due_alerts(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Emit ``incident.alert`` for open incidents whose group wait has ended.

    ``incident.alert`` means "this incident is settled (siblings had their chance to
    join a site incident): page about it". Whether and when anyone hears is the
    notification policy's decision at routing time (maintenance, alerts off, business
    hours, quiet hours), never monitoring's. The due incidents are locked (``SKIP
    LOCKED``) and stamped in one batch, so two workers never alert one twice and a
    mass outage's hundreds of site alerts cost a few statements, not a few each.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Incident.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("device__customer", "customer", "organization")
            .filter(status=IncidentStatus.OPEN, alerted_at__isnull=True, alert_due_at__lte=now)
            .order_by("alert_due_at")[:limit]
        )
        if not due:
            return 0
        Incident.objects.filter(pk__in=[i.pk for i in due], alerted_at__isnull=True).update(
            alerted_at=now
        )
        names: dict[int, list[str]] = defaultdict(list)
        for incident_id, name in SiteMember.objects.filter(
            incident__in=[i for i in due if i.device_id is None], back_at__isnull=True
        ).values_list("incident_id", "device__name"):
            names[incident_id].append(name)
        IncidentEntry.objects.bulk_create(
            [
                IncidentEntry(
                    incident=incident,
                    at=now,
                    kind=TimelineKind.ALERT,
                    actor_label=SYSTEM,
                    params=say(Say.GROUP_WAIT),
                )
                for incident in due
            ]
        )
        events: dict[int, list[NewEvent]] = defaultdict(list)
        for incident in due:
            incident.alerted_at = now
            data = (
                site_data(incident, names[incident.pk])
                if incident.device_id is None
                else incident_data(incident)
            )
            events[incident.organization_id].append(
                NewEvent("incident.alert", incident_subject(incident), data, occurred_at=now)
            )
        organizations = {i.organization_id: i.organization for i in due}
        for organization_id, batch in events.items():
            emit_many(organizations[organization_id], batch)
    return len(due)


# --- incidents by people ------------------------------------------------------------


@transaction.atomic
def acknowledge_incident(*, acting_user: Actor, incident: Incident, note: str = "") -> Incident:
    """Someone is on it: stops the alert from going out if it has not yet."""
    acting_user.require_write()
    now = timezone.now()
    changed = Incident.objects.filter(pk=incident.pk, status=IncidentStatus.OPEN).update(
        status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=acting_user.user
    )
    if not changed:
        raise field_error("status", "only an open incident can be acknowledged", "state")
    incident.refresh_from_db()
    IncidentEntry.objects.create(
        incident=incident,
        at=now,
        kind=TimelineKind.ACKNOWLEDGED,
        message=note[:300],
        user=acting_user.user,
        actor_label=actor_label(acting_user),
    )
    acting_user.audit("incident.acknowledged", incident)
    emit(
        acting_user.organization,
        "incident.acknowledged",
        incident_subject(incident),
        {**incident_data(incident), "by": actor_label(acting_user)},
    )
    return incident


@transaction.atomic
def resolve_incident(*, acting_user: Actor, incident: Incident, note: str = "") -> Incident:
    """Close an incident by hand (the device may still be offline)."""
    acting_user.require_write()
    now = timezone.now()
    changed = Incident.objects.filter(pk=incident.pk, status__in=OPEN_STATUSES).update(
        status=IncidentStatus.RESOLVED,
        resolved_at=now,
        resolved_by=acting_user.user,
        auto_resolved=False,
    )
    if not changed:
        raise field_error("status", "the incident is already resolved", "state")
    incident.refresh_from_db()
    IncidentEntry.objects.create(
        incident=incident,
        at=now,
        kind=TimelineKind.RESOLVED,
        message=note[:300],
        user=acting_user.user,
        actor_label=actor_label(acting_user),
    )
    acting_user.audit("incident.resolved", incident)
    emit(
        acting_user.organization,
        "incident.resolved",
        incident_subject(incident),
        {**incident_data(incident), "auto": False, "by": actor_label(acting_user)},
    )
    return incident
