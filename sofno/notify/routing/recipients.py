"""Who a rule or escalation step names, as people with addresses, hours and language.

Kinds (``{"kind": ..., "value": ...}``):
- ``assigned_agents``: the customer's assigned agents;
- ``on_call``: whoever the published timetable has on call now, else the rule's
  fallback person;
- ``role``: members with a role (``value``: one role or a list, e.g. ``admin``);
- ``user``: a named member (``value``: membership public id or username);
- ``contact_type``: the customer's contacts of a type (``value``: its slug);
- ``technicians``: the ticket's technicians, from the event payload;
- ``added_technicians``: only the technicians an assignment just added;
- ``primary_contact``: the customer's primary contact of a type (``value``: its slug;
  empty: the type Settings > Tickets names, default ``service``);
- ``installer``: the staff member who installed (or enrolled) the computer the event
  is about;
- ``turn_people``: the people of a turn that started (``oncall.turn_started``'s
  ``team``) who chose the reminder channel ``value`` (empty: all of them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model

from sofno.core.models import ADMIN_ROLES, Membership, Role
from sofno.core.usernames import named_q, names_q, sign_in_name, sign_in_name_expression
from sofno.core.windows import WeeklyWindows
from sofno.directory.models import Contact, ContactType, Customer, StaffProfile
from sofno.monitoring.models import Device
from sofno.notify import reasons as why
from sofno.notify.rules.matching import subject_ids
from sofno.oncall.selectors import on_call_at
from sofno.tickets.models import TicketSettings


@dataclass
class Recipient:
    """One person to notify."""

    key: str  # "user:<pk>" or "contact:<pk>": the same person is notified once
    name: str
    email: str = ""
    phone: str = ""
    language: str = "en"
    user: Any = None
    contact: Any = None
    quiet: WeeklyWindows | None = None
    business: WeeklyWindows | None = None

    @property
    def is_staff(self) -> bool:
        return self.user is not None


@dataclass
class Resolved:
    people: list[Recipient] = field(default_factory=list)
    # Who could not be named or reached: ``notify.reasons`` entries.
    notes: list[dict[str, Any]] = field(default_factory=list)

    def add(self, recipient: Recipient) -> None:
        if all(p.key != recipient.key for p in self.people):
            self.people.append(recipient)


def _staff(user) -> Recipient:
    try:
        profile = user.staff_profile
    except StaffProfile.DoesNotExist:
        profile = None
    return Recipient(
        key=f"user:{user.pk}",
        name=user.get_full_name() or sign_in_name(user),
        email=user.email,
        phone=profile.phone if profile else "",
        language=profile.language if profile else "en",
        user=user,
        quiet=profile.quiet() if profile else None,
    )


def _contact(contact: Contact, customer: Customer) -> Recipient:
    return Recipient(
        key=f"contact:{contact.pk}",
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        contact=contact,
        business=customer.hours(),
    )


def customer_of(organization, event) -> Customer | None:
    """The customer an event is about, if any."""
    customer_id, _device = subject_ids(event)
    if not customer_id:
        return None
    try:
        return Customer.objects.filter(organization=organization, public_id=customer_id).first()
    except Exception:  # a malformed id in a custom event's payload
        return None


def _members(organization):
    return Membership.objects.filter(organization=organization).select_related(
        "user__staff_profile"
    )


def resolve(
    specs: list[dict],
    organization,
    event,
    *,
    at: dt.datetime,
    fallback_user=None,
    customer: Customer | None = None,
) -> Resolved:
    """The people ``specs`` name for ``event`` at ``at``, in order, each once."""
    out = Resolved()
    if customer is None:
        customer = customer_of(organization, event)
    payload = event.payload or {}
    for spec in specs:
        kind, value = spec.get("kind"), spec.get("value")
        if kind == "assigned_agents":
            if customer is None:
                out.notes.append(why.reason(why.ASSIGNED_NO_CUSTOMER))
                continue
            for user in customer.assigned_agents.select_related("staff_profile").order_by("pk"):
                out.add(_staff(user))
        elif kind == "on_call":
            people = on_call_at(organization, at)
            if not people and fallback_user is not None:
                out.notes.append(why.reason(why.ON_CALL_FALLBACK))
                people = [fallback_user]
            elif not people:
                out.notes.append(why.reason(why.NOBODY_ON_CALL))
            for user in people:
                out.add(_staff(user))
        elif kind == "role":
            roles = set(value if isinstance(value, list) else [value])
            # "Admins" are owners and admins; "technicians" are agents.
            if roles & {"admin", "admins"}:
                roles |= set(ADMIN_ROLES)
            if roles & {"technician", "technicians"}:
                roles.add(Role.AGENT)
            for membership in _members(organization).filter(role__in=roles).order_by("pk"):
                out.add(_staff(membership.user))
        elif kind == "user":
            membership = (
                _members(organization).filter(public_id=value).first()
                if _is_uuid(value)
                else _members(organization).filter(named_q(str(value), "user__username")).first()
            )
            if membership is None:
                out.notes.append(why.reason(why.MEMBER_NOT_FOUND, member=str(value)))
            else:
                out.add(_staff(membership.user))
        elif kind == "contact_type":
            if customer is None:
                out.notes.append(why.reason(why.CONTACTS_NO_CUSTOMER))
                continue
            contacts = customer.contacts.filter(contact_type__slug=value).order_by(
                "-is_primary", "pk"
            )
            for contact in contacts:
                out.add(_contact(contact, customer))
        elif kind in ("technicians", "added_technicians"):
            listed = (
                (payload.get("added_technicians") or [])
                if kind == "added_technicians"
                else ((payload.get("technicians") or []) + (payload.get("added_technicians") or []))
            )
            names = [t.get("username") for t in listed if isinstance(t, dict)]
            users = get_user_model().objects.filter(
                names_q(names),
                memberships__organization=organization,
                memberships__role__in=[Role.OWNER, Role.ADMIN, Role.AGENT],
            )
            found = list(users.select_related("staff_profile").order_by("pk"))
            for user in found:
                out.add(_staff(user))
            # A technician without a staff account here cannot get email or push: say so.
            for name in sorted(set(names) - {sign_in_name(u) for u in found}):
                out.notes.append(why.reason(why.NO_ACCOUNT, person=name))
        elif kind == "primary_contact":
            if customer is None:
                out.notes.append(why.reason(why.PRIMARY_NO_CUSTOMER))
                continue
            slug = value or _ticket_contact_type(organization)
            contact = customer.contacts.filter(contact_type__slug=slug, is_primary=True).first()
            if contact is None:
                kind_name = _contact_type_name(organization, slug)
                out.notes.append(
                    why.reason(why.NO_PRIMARY_CONTACT, customer=customer.name, kind=kind_name)
                )
            else:
                out.add(_contact(contact, customer))
        elif kind == "installer":
            _add_installer(out, organization, payload)
        elif kind == "turn_people":
            _add_turn_people(out, organization, payload, value)
        else:
            out.notes.append(why.reason(why.UNKNOWN_RECIPIENT_KIND, kind=str(kind)))
    return out


def _add_installer(out: Resolved, organization, payload: dict) -> None:
    device_id = payload.get("device_id")
    if not device_id:
        out.notes.append(why.reason(why.INSTALLER_NO_DEVICE))
        return
    device = (
        Device.objects.filter(organization=organization, public_id=device_id)
        .select_related("installed_by__staff_profile")
        .first()
    )
    if device is None or device.installed_by is None:
        out.notes.append(why.reason(why.INSTALLER_UNKNOWN))
        return
    if not device.installed_by.memberships.filter(organization=organization).exists():
        out.notes.append(why.reason(why.INSTALLER_GONE))
        return
    out.add(_staff(device.installed_by))


def _add_turn_people(out: Resolved, organization, payload: dict, channel) -> None:
    # The channel each person chose is in the event (as it was when the turn began).
    team = [t for t in payload.get("team") or [] if isinstance(t, dict)]
    names = [t.get("username") for t in team if not channel or t.get("reminder") == channel]
    users = get_user_model().objects.filter(names_q(names), memberships__organization=organization)
    for user in users.select_related("staff_profile").order_by(sign_in_name_expression()):
        out.add(_staff(user))


def _contact_type_name(organization, slug: str) -> str:
    """The name people gave a contact type (its slug when it no longer exists)."""
    name = (
        ContactType.objects.filter(organization=organization, slug=slug)
        .values_list("name", flat=True)
        .first()
    )
    return name or slug


def _ticket_contact_type(organization) -> str:
    """The contact type whose primary contact is "the customer" for tickets."""
    settings = (
        TicketSettings.objects.filter(organization=organization)
        .select_related("customer_contact_type")
        .first()
    )
    if settings is not None and settings.customer_contact_type is not None:
        return settings.customer_contact_type.slug
    return "service"


def reachable_contact(customer: Customer, at: dt.datetime) -> Contact | None:
    """The contact to bridge in a call patch: reachable now and with a phone.

    Primary contacts first; a contact without reachable hours is always reachable.
    """
    for contact in customer.contacts.exclude(phone="").order_by("-is_primary", "pk"):
        hours = contact.reachable_hours or {}
        if not hours.get("ranges"):
            return contact
        windows = WeeklyWindows.model_validate({"timezone": customer.timezone, **hours})
        if windows.contains(at):
            return contact
    return None


def _is_uuid(value: Any) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
