"""Ticket changes: atomic, recorded in the ticket's history, and emitted as events.

Every change emits an event in the same transaction (``ticket.created``,
``ticket.status_changed``, ``ticket.assigned``, ``ticket.updated``; for the
statuses, ``ticket_status.created`` and ``ticket_status.updated``); the
notification rules react to those, never to the ticket rows directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from sofno.core.access import Actor, PermissionDenied
from sofno.core.modeling import apply_fields, save_validated
from sofno.core.models import WRITE_ROLES, Membership
from sofno.core.usernames import sign_in_name
from sofno.directory.models import ContactType, Customer
from sofno.events.emit import NewEvent, emit, emit_many
from sofno.tickets.models import (
    DEFAULT_STATUSES,
    ChangeKind,
    Ticket,
    TicketChange,
    TicketSettings,
    TicketStatus,
)


def ensure_ticket_defaults(organization) -> None:
    """Give an organization the default statuses and its ticket settings row."""
    for position, (slug, name, is_open) in enumerate(DEFAULT_STATUSES):
        TicketStatus.objects.get_or_create(
            organization=organization,
            slug=slug,
            defaults={"name": str(name), "is_open": is_open, "position": position},
        )
    service = ContactType.objects.filter(organization=organization, slug="service").first()
    TicketSettings.objects.get_or_create(
        organization=organization, defaults={"customer_contact_type": service}
    )


def _next_number(organization) -> int:
    ensure_ticket_defaults(organization)
    # The row lock taken by the UPDATE serializes numbering until commit.
    TicketSettings.objects.filter(organization=organization).update(
        last_number=F("last_number") + 1
    )
    return TicketSettings.objects.values_list("last_number", flat=True).get(
        organization=organization
    )


def technicians_from_members(actor: Actor, member_ids: Iterable[UUID]) -> list:
    """Users behind member ids of the actor's organization who may work tickets."""
    ids = set(member_ids)
    memberships = list(
        Membership.objects.filter(
            organization=actor.organization, public_id__in=ids, role__in=WRITE_ROLES
        ).select_related("user")
    )
    if len(memberships) != len(ids):
        message = "unknown member, or a member whose role cannot work tickets"
        raise ValidationError({"technicians": ValidationError(message, code="unknown")})
    return [m.user for m in memberships]


def ticket_payload(ticket: Ticket) -> dict:
    """The tokens every ticket event carries."""
    return {
        "ticket": {
            "id": str(ticket.public_id),
            "number": ticket.number,
            "title": ticket.title,
            "priority": ticket.priority,
            "url": f"{django_settings.BASE_URL}/tickets/{ticket.public_id}/",
        },
        "customer": {"id": str(ticket.customer.public_id), "name": ticket.customer.name},
        "status": _status_payload(ticket.status),
        "technicians": [_user_payload(u) for u in ticket.technicians.all()],
    }


def _status_payload(status: TicketStatus) -> dict:
    return {"slug": status.slug, "name": status.name, "is_open": status.is_open}


def _user_payload(user) -> dict:
    return {
        "username": sign_in_name(user),
        "name": user.get_full_name() or sign_in_name(user),
        "email": user.email,
    }


def _emit(ticket: Ticket, type: str, actor: Actor, **extra: object) -> None:
    data = ticket_payload(ticket) | extra
    if actor.user is not None:
        data["actor"] = _user_payload(actor.user)
    emit(ticket.organization, type, f"ticket:{ticket.public_id}", data)


def _record(ticket: Ticket, actor: Actor, kind: str, old: str = "", new: str = "") -> None:
    TicketChange.objects.create(
        ticket=ticket, actor=actor.user, kind=kind, from_value=old[:500], to_value=new[:500]
    )


def _require_may_open(actor: Actor, customer: Customer) -> None:
    if actor.is_customer_user:
        if not customer.users.filter(user=actor.user).exists():
            raise PermissionDenied("other_customer")
    else:
        actor.require_write()


@transaction.atomic
def create_ticket(
    *,
    acting_user: Actor,
    customer: Customer,
    title: str,
    description: str = "",
    priority: str = "normal",
    status: TicketStatus | None = None,
    technicians: list | None = None,
    incident=None,
) -> Ticket:
    """Open a ticket (customer users only for their own customer).

    - Numbers are consecutive per organization.
    - Creating directly in a status notifies like a change into it.
    - Customer users cannot pick the status or technicians.
    """
    _require_may_open(acting_user, customer)
    if acting_user.is_customer_user:
        status, technicians = None, None
    number = _next_number(acting_user.organization)
    status = status or TicketStatus.objects.filter(organization=acting_user.organization).first()
    ticket = Ticket(
        organization=acting_user.organization,
        number=number,
        customer=customer,
        title=title,
        description=description,
        priority=priority,
        status=status,
        created_by=acting_user.user,
        incident=incident,
    )
    # Not save_validated: the unique incident is open_ticket_for_incident's claim,
    # and the race's loser must see the IntegrityError, not a field error.
    ticket.full_clean()
    ticket.save()
    assert status is not None  # full_clean refuses a ticket without a status
    if not status.is_open:
        Ticket.objects.filter(pk=ticket.pk).update(closed_at=ticket.created_at)
    _record(ticket, acting_user, ChangeKind.CREATED, new=status.name)
    if technicians:
        # Assigned before ``ticket.created`` is emitted, so a rule emailing "the
        # technicians" of a ticket created in its status reaches them.
        ticket.technicians.set(technicians)
    _emit(ticket, "ticket.created", acting_user)
    if technicians:
        _assigned(ticket, acting_user, set(), set(technicians))
    acting_user.audit("ticket.created", ticket, number=number)
    return ticket


@transaction.atomic
def change_status(*, acting_user: Actor, ticket: Ticket, status: TicketStatus) -> Ticket:
    """Move a ticket to ``status``; a no-op when it is already there."""
    acting_user.require_write()
    ticket = Ticket.objects.select_for_update().select_related("status").get(pk=ticket.pk)
    old = ticket.status
    if old.pk == status.pk:
        return ticket
    ticket.status = status
    ticket.closed_at = None if status.is_open else timezone.now()
    ticket.save(update_fields=["status", "closed_at", "updated_at"])
    _record(ticket, acting_user, ChangeKind.STATUS, old.name, status.name)
    _emit(ticket, "ticket.status_changed", acting_user, previous_status=_status_payload(old))
    acting_user.audit("ticket.status_changed", ticket, old=old.slug, new=status.slug)
    return ticket


@transaction.atomic
def assign(*, acting_user: Actor, ticket: Ticket, technicians: list) -> Ticket:
    """Set the ticket's technicians; those newly added are named in the event."""
    acting_user.require_write()
    _assign(ticket, acting_user, technicians)
    acting_user.audit("ticket.assigned", ticket, technicians=[sign_in_name(u) for u in technicians])
    return ticket


def _assign(ticket: Ticket, actor: Actor, technicians: list) -> None:
    before = set(ticket.technicians.all())
    after = set(technicians)
    if before == after:
        return
    ticket.technicians.set(after)
    _assigned(ticket, actor, before, after)


def _assigned(ticket: Ticket, actor: Actor, before: set, after: set) -> None:
    names = lambda users: ", ".join(sorted(sign_in_name(u) for u in users))  # noqa: E731
    _record(ticket, actor, ChangeKind.ASSIGNMENT, names(before), names(after))
    added = sorted(after - before, key=lambda u: sign_in_name(u))
    removed = sorted(before - after, key=lambda u: sign_in_name(u))
    _emit(
        ticket,
        "ticket.assigned",
        actor,
        added_technicians=[_user_payload(u) for u in added],
        removed_technicians=[_user_payload(u) for u in removed],
    )


EDITABLE_FIELDS = ("title", "description", "priority")


@transaction.atomic
def update_ticket(*, acting_user: Actor, ticket: Ticket, fields: dict) -> Ticket:
    """Change the title, description or priority."""
    acting_user.require_write()
    changed = {k: v for k, v in fields.items() if k in EDITABLE_FIELDS and getattr(ticket, k) != v}
    if not changed:
        return ticket
    old = {k: str(getattr(ticket, k)) for k in changed}
    apply_fields(ticket, changed)
    save_validated(ticket, update_fields=[*changed, "updated_at"])
    for name in changed:
        _record(ticket, acting_user, ChangeKind.EDITED, f"{name}: {old[name]}", str(changed[name]))
    _emit(ticket, "ticket.updated", acting_user, changed=sorted(changed))
    return ticket


UNCHANGED: Any = object()
NOTIFY_TOGGLES = (
    "notify",
    "email_admins",
    "email_customer",
    "email_technicians",
    "push_admins",
    "push_technicians",
)


@transaction.atomic
def save_notification_settings(
    *, acting_user: Actor, toggles: dict[str, dict[str, bool]], contact_type=UNCHANGED
) -> None:
    """Set which statuses notify, and how (``{status slug: {toggle: bool}}``).

    ``contact_type``: whose primary contact is "the customer" (``None``: service);
    left as it is when not given.

    Each status whose toggles change emits ``ticket_status.updated`` (from which
    notify regenerates its managed rules); statuses not named are left as they are.
    """
    acting_user.require_admin()
    organization = acting_user.organization
    ensure_ticket_defaults(organization)
    statuses = {s.slug: s for s in TicketStatus.objects.filter(organization=organization)}
    unknown = sorted(set(toggles) - set(statuses))
    if unknown:
        message = f"unknown statuses: {', '.join(unknown)}"
        raise ValidationError({"statuses": ValidationError(message, code="unknown")})
    if contact_type is not UNCHANGED:
        if contact_type is not None and contact_type.organization_id != organization.pk:
            raise ValidationError(
                {"customer_contact_type": ValidationError("no such contact type", code="unknown")}
            )
        TicketSettings.objects.filter(organization=organization).update(
            customer_contact_type=contact_type
        )
    updated = []
    for slug, wanted in toggles.items():
        status = statuses[slug]
        changed = [
            name
            for name in NOTIFY_TOGGLES
            if name in wanted and getattr(status, name) != bool(wanted[name])
        ]
        for name in changed:
            setattr(status, name, bool(wanted[name]))
        if changed:
            status.save(update_fields=changed)
            updated.append(_status_event(status, "ticket_status.updated", acting_user, changed))
    emit_many(organization, updated)
    acting_user.audit(
        "ticket_settings.updated",
        TicketSettings.objects.get(organization=organization),
        statuses=sorted(toggles),
    )


STATUS_FIELDS = ("name", "is_open", "position", *NOTIFY_TOGGLES)


@transaction.atomic
def create_status(*, acting_user: Actor, fields: dict[str, Any]) -> TicketStatus:
    """Add a ticket status (administrators); emits ``ticket_status.created``."""
    acting_user.require_admin()
    status = TicketStatus.objects.create(organization=acting_user.organization, **fields)
    acting_user.audit("ticket_status.created", status)
    emit_many(status.organization, [_status_event(status, "ticket_status.created", acting_user)])
    return status


@transaction.atomic
def update_status(
    *, acting_user: Actor, status: TicketStatus, fields: dict[str, Any]
) -> TicketStatus:
    """Change a status's name, position or notifications (administrators).

    Emits ``ticket_status.updated`` naming the fields that changed, when any did.
    """
    acting_user.require_admin()
    changed = [
        name for name in STATUS_FIELDS if name in fields and getattr(status, name) != fields[name]
    ]
    for name in changed:
        setattr(status, name, fields[name])
    if changed:
        status.save(update_fields=changed)
        event = _status_event(status, "ticket_status.updated", acting_user, changed)
        emit_many(status.organization, [event])
    acting_user.audit("ticket_status.updated", status, fields=sorted(fields))
    return status


def _status_event(
    status: TicketStatus, type: str, actor: Actor, changed: list[str] | None = None
) -> NewEvent:
    data: dict[str, Any] = {
        "status": _status_payload(status) | {name: getattr(status, name) for name in NOTIFY_TOGGLES}
    }
    if changed is not None:
        data["changed"] = sorted(changed)
    if actor.user is not None:
        data["actor"] = _user_payload(actor.user)
    return NewEvent(type, f"ticket_status:{status.public_id}", data)


def open_ticket_for_incident(*, acting_user: Actor, incident, reason: str = "") -> Ticket | None:
    """Open a ticket for an incident and link the two; ``None`` when one exists already.

    The unique incident on tickets is the claim: of two workers racing, the second
    one's insert fails and it returns ``None``.
    """
    acting_user.require_write()
    if Ticket.objects.filter(incident=incident).exists():
        return None
    description = incident.title if not reason else f"{incident.title}\n\n{reason}"
    try:
        with transaction.atomic():
            ticket = create_ticket(
                acting_user=acting_user,
                customer=incident.customer,
                title=incident.title[:200],
                description=description,
                priority="high",
                incident=incident,
            )
    except IntegrityError:
        return None
    return ticket
