"""The alert policy: whether and when a notification about a customer or a device may
go out. The one place that decides it, at routing time, for every event type and rule.

Monitoring records facts (``device.offline``, ``incident.opened``, ``site.down``, ...)
and decides nobody's notifications. For a matched rule, this module decides:

- **about the subject** (the event names a device or a customer, ticket and record
  edits of customers and contacts excepted), in this order:

  - the customer is inactive, or its alerts are turned off: held, no end (released
    when the switch is turned back on);
  - we suspect our own outage (``monitoring.SuspectedOutage`` open): held until it
    ends;
  - a maintenance window of the device or of its customer covers now: held until the
    window ends;
  - outside the customer's business hours (when it has any): held until they open;

- **about each person**: their quiet hours and the rule's business hours
  (:func:`for_person`, the rule's quiet action: defer, next person, through).

A held notification is a :class:`~sofno.notify.models.HeldNotification` with its
reason as a code and parameters (``notify.reasons``), put into words in the reader's
language on the event's routing page. When its hold ends the router
(``routing.release_due``) releases it if what the event says is **still true**
(Alertmanager's known gap, closed: sent at the end of the window, not at the next
reminder): a "down" event (device offline, incident opened or alerting, a site down)
only while the device is still offline or the incident still open and
unacknowledged; a "back" event only while the device is still online; any other
event always. Otherwise it is dropped, and the
outcome says why.

Webhook endpoints and pull consumers are not notifications: they get every event,
unfiltered.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from sofno.events.models import Event
from sofno.monitoring.models import (
    Device,
    DeviceStatus,
    Incident,
    IncidentStatus,
    MaintenanceWindow,
    SuspectedOutage,
)
from sofno.notify import reasons
from sofno.notify.models import HeldNotification, HoldReason, HoldStatus
from sofno.notify.routing import quiet, recipients
from sofno.notify.rules.matching import subject_ids

log = logging.getLogger(__name__)

# Events that tell the organization's admins about monitoring itself: never held, and
# sent to the admins even when no rule names them.
ADMIN_EVENTS = ("monitoring.degraded",)
# Records people edit, not alerts: the policy leaves them to the rules.
EXEMPT_PREFIXES = ("ticket.", "customer.", "contact.", "monitoring.", "webhook.", "maintenance.")
# What a "down" event says stays true while the trouble lasts; a "back" event while
# the device stays online.
DOWN_TYPES = frozenset(
    {"device.offline", "incident.opened", "incident.alert", "site.down", "site.device_down"}
)
BACK_TYPES = frozenset({"device.online", "incident.resolved", "site.device_up", "site.up"})
RELEASE_BATCH = 200


@dataclass(frozen=True)
class Hold:
    """Why a notification may not go out now (a :class:`HoldReason`, whose value is also
    its ``notify.reasons`` code, and the parameters of its words), and until when
    (``None``: no end known)."""

    reason: str
    params: dict[str, Any] = field(default_factory=dict)
    until: dt.datetime | None = None

    @property
    def words(self) -> str:
        """Why, in the active language."""
        return reasons.describe(str(self.reason), self.params)

    def entry(self, code: str = reasons.HELD) -> dict[str, Any]:
        """This hold inside a rule verdict's reasons (``held: ...``, ``still held: ...``)."""
        return reasons.reason(code, hold=reasons.reason(str(self.reason), **self.params))


def _ids(event: Event) -> tuple[str, str]:
    return subject_ids(event)


def applies(event: Event) -> bool:
    """Whether the subject part of the policy applies to ``event`` at all."""
    if event.type.startswith(EXEMPT_PREFIXES):
        return False
    customer_id, device_id = _ids(event)
    return bool(customer_id or device_id)


def _device(event: Event, device_id: str):
    if not device_id:
        return None
    try:
        return (
            Device.objects.filter(organization_id=event.organization_id, public_id=device_id)
            .select_related("customer")
            .first()
        )
    except Exception:  # a malformed id in a custom event's payload
        return None


def _customer(event: Event, device):
    if device is not None:
        return device.customer
    return recipients.customer_of(event.organization, event)


def hold_for(event: Event, at: dt.datetime, customer=None) -> Hold | None:
    """The hold on notifications about ``event``'s subject at ``at``, or ``None``."""
    if not applies(event):
        return None
    _customer_id, device_id = _ids(event)
    device = _device(event, device_id)
    customer = customer or _customer(event, device)
    if customer is None and device is None:
        return None
    if customer is not None and not customer.active:
        return Hold(HoldReason.CUSTOMER_INACTIVE, {"customer": customer.name})
    if customer is not None and not customer.alerts_enabled:
        return Hold(HoldReason.ALERTS_OFF, {"customer": customer.name})
    outage = (
        SuspectedOutage.objects.filter(organization_id=event.organization_id, ended_at=None)
        .order_by("-started_at")
        .first()
    )
    if outage is not None:
        return Hold(
            HoldReason.OUR_OUTAGE,
            {"silent": outage.silent, "total": outage.total, "customers": outage.customers},
        )
    moment = at
    window = None
    # Back-to-back windows: hold until the last one ends (bounded).
    for _round in range(16):
        found = _window_at(event.organization_id, device, customer, moment, MaintenanceWindow)
        if found is None:
            break
        window, moment = found, found.ends_at
    zone = customer.hours().zone if customer is not None and customer.hours() else dt.UTC
    if window is not None:
        what = device.name if window.device_id else customer.name
        return Hold(
            HoldReason.MAINTENANCE,
            {"name": what, "why": window.reason, "until": reasons.moment(moment, zone)},
            moment,
        )
    hours = customer.hours() if customer is not None else None
    if hours is not None and not hours.contains(at):
        opens = hours.next_start(at)
        return Hold(
            HoldReason.OUTSIDE_HOURS,
            {
                "customer": customer.name,
                "until": reasons.moment(opens, hours.zone) if opens else None,
            },
            opens,
        )
    return None


def _window_at(organization_id, device, customer, at, model):
    match = Q()
    if device is not None:
        match |= Q(device_id=device.pk)
    if customer is not None:
        match |= Q(customer_id=customer.pk)
    return (
        model.objects.filter(organization_id=organization_id, starts_at__lte=at, ends_at__gt=at)
        .filter(match)
        .order_by("-ends_at")
        .first()
    )


def for_person(
    at: dt.datetime, person, *, business=None, action: str = quiet.QuietAction.DEFER
) -> quiet.Decision:
    """When a message due ``at`` may reach one person: their quiet hours and the hours
    the rule asks for (the per-person half of the policy)."""
    return quiet.decide(at, quiet=person.quiet, business=business, action=action, who=person.name)


def still_true(event: Event) -> tuple[bool, str]:
    """Whether what ``event`` says still holds now, with why (a ``notify.reasons`` code)."""
    if event.type not in DOWN_TYPES | BACK_TYPES:
        return True, reasons.STILL_RELEVANT
    payload = event.payload or {}
    _customer_id, device_id = _ids(event)
    if event.type in DOWN_TYPES:
        incident_id = payload.get("incident_id")
        if incident_id:
            status = (
                Incident.objects.filter(
                    organization_id=event.organization_id, public_id=incident_id
                )
                .values_list("status", flat=True)
                .first()
            )
            if status == IncidentStatus.OPEN:
                return True, reasons.INCIDENT_STILL_OPEN
            if status == IncidentStatus.ACKNOWLEDGED:
                return False, reasons.INCIDENT_ACKNOWLEDGED_MEANWHILE
            return False, reasons.INCIDENT_RESOLVED_MEANWHILE
        device = _device(event, device_id)
        if device is not None and device.status == DeviceStatus.OFFLINE:
            return True, reasons.DEVICE_STILL_OFFLINE
        return False, reasons.DEVICE_BACK_MEANWHILE
    device = _device(event, device_id)
    if device is None or device.status == DeviceStatus.ONLINE:
        return True, reasons.DEVICE_STILL_ONLINE
    return False, reasons.DEVICE_OFFLINE_AGAIN


def hold(event: Event, rule, evaluation, found: Hold) -> HeldNotification:
    """Record a rule's notification held back by ``found`` (unsaved)."""
    customer_id, device_id = _ids(event)
    return HeldNotification(
        organization_id=event.organization_id,
        event=event,
        rule=rule,
        evaluation=evaluation,
        reason=found.reason,
        params=found.params,
        release_at=found.until,
        customer_ref=customer_id[:64],
        device_ref=device_id[:64],
    )


def note_event(event: Event, now: dt.datetime | None = None) -> int:
    """An event that ends holds early: alerts turned back on, a maintenance window
    ended by hand, our suspected outage over. Returns the holds made due now."""
    now = now or timezone.now()
    payload = event.payload or {}
    held = HeldNotification.objects.filter(
        organization_id=event.organization_id, status=HoldStatus.HELD
    )
    if event.type == "customer.updated" and {"alerts_enabled", "active"} & set(
        payload.get("changed") or ()
    ):
        customer_id = (payload.get("customer") or {}).get("id") or payload.get("customer_id")
        held = held.filter(
            customer_ref=str(customer_id or ""),
            reason__in=[HoldReason.ALERTS_OFF, HoldReason.CUSTOMER_INACTIVE],
        )
    elif event.type == "maintenance.ended":
        target = (
            {"device_ref": payload["device_id"]}
            if payload.get("device_id")
            else {"customer_ref": payload.get("customer_id") or ""}
        )
        held = held.filter(reason=HoldReason.MAINTENANCE, **target)
    elif event.type == "monitoring.recovered":
        held = held.filter(reason=HoldReason.OUR_OUTAGE)
    else:
        return 0
    return held.update(release_at=now)
