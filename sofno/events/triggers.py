"""Triggers: events emitted automatically.

- Record triggers: saving or deleting a directory customer or contact emits
  ``customer.created`` / ``.updated`` / ``.deleted`` (and ``contact.*``) in the same
  transaction as the change (Django signals, connected in ``EventsConfig.ready``).
- Time-relative triggers: when an event of a trigger's source type is recorded, a
  :class:`TriggerDue` row is written in the same transaction; the ``events.triggers``
  loop emits the trigger's event when the row is due.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

from sofno.core.models import Organization
from sofno.directory.models import Contact, Customer

# ``emit`` schedules this module's time triggers and they fire through ``emit``: the
# module, not its function, is imported, so either side may load first.
from sofno.events import emit as emitting
from sofno.events.models import DueStatus, Event, TimeTrigger, TimezoneSource, TriggerDue

log = logging.getLogger(__name__)


# --- record triggers ---------------------------------------------------------------


def customer_data(customer: Customer) -> dict[str, Any]:
    """The ``customer`` payload object (also used by other events about a customer)."""
    return {
        "id": str(customer.public_id),
        "name": customer.name,
        "city": customer.city,
        "country": customer.country,
        "timezone": customer.timezone,
        "active": customer.active,
        "email": customer.email,
    }


def _contact_data(contact: Contact) -> dict[str, Any]:
    return {
        "id": str(contact.public_id),
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "contact_type": contact.contact_type.slug if contact.contact_type_id else "",
        "is_primary": contact.is_primary,
    }


_TRACKED = {
    "Customer": (
        "name",
        "address",
        "city",
        "region",
        "country",
        "timezone",
        "email",
        "active",
        "alerts_enabled",
        "notes",
        "business_hours",
    ),
    "Contact": (
        "name",
        "email",
        "phone",
        "contact_type_id",
        "is_primary",
        "notes",
        "reachable_hours",
    ),
}


def _remember_old(
    sender: type[Customer | Contact], instance: Any, raw: bool = False, **kwargs: Any
) -> None:
    """Keep the stored values so post_save can name the fields that changed."""
    if raw or instance.pk is None:
        return
    fields = _TRACKED[sender.__name__]
    instance._sofno_old = sender.objects.filter(pk=instance.pk).values(*fields).first()


def _changed(sender: type[Customer | Contact], instance: Any) -> list[str]:
    old = getattr(instance, "_sofno_old", None) or {}
    fields = _TRACKED[sender.__name__]
    return sorted(f.removesuffix("_id") for f in fields if old.get(f) != getattr(instance, f))


def _emit_record(kind: str, action: str, instance: Any, data: dict[str, Any]) -> None:
    customer = instance if kind == "customer" else instance.customer
    subject = f"{kind}:{instance.public_id}"
    payload = {"customer": customer_data(customer), **data}
    # Contacts are ordered with their customer, so a receiver never sees a contact
    # of a customer it has not heard of yet.
    emitting.emit(
        instance.organization,
        f"{kind}.{action}",
        subject,
        payload,
        f"customer:{customer.public_id}",
    )


def _on_save(
    sender: type[Customer | Contact], instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if raw:
        return
    kind = sender.__name__.lower()
    data: dict[str, Any] = {}
    if kind == "contact":
        data["contact"] = _contact_data(instance)
    if not created:
        changed = _changed(sender, instance)
        if not changed:
            return  # a save that changed nothing we track is not an event
        data["changed"] = changed
    _emit_record(kind, "created" if created else "updated", instance, data)


def _on_delete(
    sender: type[Customer | Contact], instance: Any, origin: Any = None, **kwargs: Any
) -> None:
    if getattr(origin, "model", type(origin)) is Organization:
        return  # the whole tenant is going; its log goes with it
    kind = sender.__name__.lower()
    if kind == "contact":
        try:
            instance.customer  # noqa: B018  (cascade from a customer: still loaded)
        except Exception:
            return
        _emit_record(kind, "deleted", instance, {"contact": _contact_data(instance)})
    else:
        _emit_record(kind, "deleted", instance, {})


def connect_record_triggers() -> None:
    """Connect the directory's save/delete signals (called from ``EventsConfig.ready``)."""
    for model in (Customer, Contact):
        uid = f"sofno.events.{model.__name__}"
        pre_save.connect(_remember_old, sender=model, dispatch_uid=uid + ".pre")
        post_save.connect(_on_save, sender=model, dispatch_uid=uid + ".save")
        post_delete.connect(_on_delete, sender=model, dispatch_uid=uid + ".delete")


# --- time-relative triggers --------------------------------------------------------


def lookup(payload: Any, path: str) -> Any:
    """The value at a dotted ``path`` in ``payload`` (``customer.name``), or ``None``."""
    value = payload
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _parse_when(value: Any) -> dt.datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _zone_for(trigger: TimeTrigger, event: Event) -> tuple[str, str]:
    """The timezone name to use and a note saying why."""
    org_zone = event.organization.timezone or "UTC"
    if trigger.timezone_source == TimezoneSource.FIXED and trigger.timezone:
        return trigger.timezone, ""
    if trigger.timezone_source == TimezoneSource.CUSTOMER:
        customer_id = lookup(event.payload, "customer.id") or lookup(event.payload, "customer_id")
        zone = None
        if customer_id:
            try:
                zone = (
                    Customer.objects.filter(organization=event.organization, public_id=customer_id)
                    .values_list("timezone", flat=True)
                    .first()
                )
            except Exception:  # a malformed id in an external payload
                zone = None
        if zone:
            return zone, ""
        return org_zone, "customer unknown: used the organization's timezone"
    return org_zone, ""


def due_time(trigger: TimeTrigger, reference: dt.datetime, zone: str) -> dt.datetime:
    """When ``trigger`` fires for an event whose reference time is ``reference``.

    - ``reference + offset``;
    - with ``at_local_time``: that time on the local date of ``reference + offset``,
      moved a day later while it would fall before ``reference`` itself.
    """
    moment = reference + dt.timedelta(minutes=trigger.offset_minutes)
    if trigger.at_local_time is None:
        return moment
    tz = ZoneInfo(zone)
    day = moment.astimezone(tz).date()
    while True:
        local = dt.datetime.combine(day, trigger.at_local_time, tzinfo=tz)
        # A wall time skipped by DST normalises forward through UTC.
        candidate = local.astimezone(dt.UTC)
        if candidate >= reference:
            return candidate
        day += dt.timedelta(days=1)


def schedule(events: list[Event]) -> list[TriggerDue]:
    """Write due rows for the time triggers matching ``events`` (caller's transaction)."""
    if not events:
        return []
    organization = events[0].organization
    types = {e.type for e in events}
    triggers = list(
        TimeTrigger.objects.filter(organization=organization, enabled=True, source_type__in=types)
    )
    if not triggers:
        return []
    rows = []
    for event in events:
        for trigger in triggers:
            if trigger.source_type != event.type:
                continue
            zone, note = _zone_for(trigger, event)
            reference = event.occurred_at
            status = DueStatus.PENDING
            if trigger.timestamp_token:
                parsed = _parse_when(lookup(event.payload, trigger.timestamp_token))
                if parsed is None:
                    status = DueStatus.SKIPPED
                    note = f"no valid timestamp at {trigger.timestamp_token!r}"
                else:
                    reference = parsed
            rows.append(
                TriggerDue(
                    organization=organization,
                    trigger=trigger,
                    source_event=event,
                    due_at=due_time(trigger, reference, zone),
                    timezone=zone,
                    status=status,
                    note=note,
                )
            )
    return TriggerDue.objects.bulk_create(rows, ignore_conflicts=True)


def fire_due(now: dt.datetime | None = None, limit: int = 200) -> int:
    """Emit the events of due trigger rows; returns how many fired.

    Each row is claimed by compare-and-set in the same transaction as its event, so
    two loops never fire one row twice and a crash never half-fires one.
    """
    now = now or timezone.now()
    due = list(
        TriggerDue.objects.filter(status=DueStatus.PENDING, due_at__lte=now)
        .select_related("trigger", "source_event", "organization")
        .order_by("due_at")[:limit]
    )
    fired = 0
    for row in due:
        with transaction.atomic():
            claimed = TriggerDue.objects.filter(pk=row.pk, status=DueStatus.PENDING).update(
                status=DueStatus.FIRED, fired_at=now
            )
            if not claimed:
                continue
            source, trigger = row.source_event, row.trigger
            data = {
                **source.payload,
                "trigger": {
                    "id": str(trigger.public_id),
                    "name": trigger.name,
                    "source_event": str(source.public_id),
                    "source_type": source.type,
                    "due_at": row.due_at.isoformat(),
                    "timezone": row.timezone,
                },
            }
            event = emitting.emit(
                row.organization,
                trigger.emit_type,
                source.subject,
                data,
                source.ordering_key,
                source="trigger",
            )
            TriggerDue.objects.filter(pk=row.pk).update(fired_event=event)
            fired += 1
    return fired
