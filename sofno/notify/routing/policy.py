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
reason in words (shown on the event's routing page). When its hold ends the router
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
from dataclasses import dataclass

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
    """Why a notification may not go out now, and until when (``None``: no end known)."""

    reason: str
    words: str
    until: dt.datetime | None = None


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


def _stamp(moment: dt.datetime, zone) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


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
        return Hold(HoldReason.CUSTOMER_INACTIVE, f"{customer.name} is inactive")
    if customer is not None and not customer.alerts_enabled:
        return Hold(HoldReason.ALERTS_OFF, f"{customer.name}'s alerts are turned off")
    outage = (
        SuspectedOutage.objects.filter(organization_id=event.organization_id, ended_at=None)
        .order_by("-started_at")
        .first()
    )
    if outage is not None:
        return Hold(
            HoldReason.OUR_OUTAGE,
            f"we suspect our own outage ({outage.silent} of {outage.total} computers of "
            f"{outage.customers} customers went silent together): held until it ends",
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
        what = f"{device.name}" if window.device_id else f"{customer.name}"
        return Hold(
            HoldReason.MAINTENANCE,
            f"{what} is in maintenance ({window.reason}) until {_stamp(moment, zone)}",
            moment,
        )
    hours = customer.hours() if customer is not None else None
    if hours is not None and not hours.contains(at):
        opens = hours.next_start(at)
        return Hold(
            HoldReason.OUTSIDE_HOURS,
            f"outside {customer.name}'s business hours"
            + (f" until {_stamp(opens, hours.zone)}" if opens else ""),
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
    """Whether what ``event`` says still holds now, with the reason in words."""
    if event.type not in DOWN_TYPES | BACK_TYPES:
        return True, "still relevant"
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
                return True, "the incident is still open"
            if status == IncidentStatus.ACKNOWLEDGED:
                return False, "someone acknowledged the incident meanwhile"
            return False, "the incident was resolved meanwhile (the device came back)"
        device = _device(event, device_id)
        if device is not None and device.status == DeviceStatus.OFFLINE:
            return True, "the device is still offline"
        return False, "the device came back meanwhile"
    device = _device(event, device_id)
    if device is None or device.status == DeviceStatus.ONLINE:
        return True, "the device is still online"
    return False, "the device went offline again meanwhile"


def hold(event: Event, rule, evaluation, found: Hold) -> HeldNotification:
    """Record a rule's notification held back by ``found`` (unsaved)."""
    customer_id, device_id = _ids(event)
    return HeldNotification(
        organization_id=event.organization_id,
        event=event,
        rule=rule,
        evaluation=evaluation,
        reason=found.reason,
        detail=found.words[:300],
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
