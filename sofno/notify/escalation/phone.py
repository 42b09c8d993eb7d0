"""Acting on an incident from a phone: a keypress in a call, an SMS reply.

The person is the one the call or message went to (named in a signed call token, or
found by the number an SMS came from); they act with their own membership's role, so
a viewer's keypress cannot acknowledge anything.

What they are told is in the active language (the caller sets the person's): incidents
are named by :attr:`Incident.display_title`, never the stored English ``title``.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from sofno.core.access import Actor
from sofno.core.api import ApiError
from sofno.core.models import Membership
from sofno.directory.models import StaffProfile
from sofno.monitoring import actions
from sofno.monitoring.models import Incident, IncidentStatus
from sofno.notify.escalation import chain as escalation

ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"
SILENCE = "silence"
KEYS = {"1": ACKNOWLEDGE, "2": RESOLVE, "3": SILENCE}
# PagerDuty's SMS replies: 4 acknowledges, 6 resolves; and the words themselves.
SMS_WORDS = {"4": ACKNOWLEDGE, "ACK": ACKNOWLEDGE, "6": RESOLVE, "RES": RESOLVE, "RESOLVE": RESOLVE}


def actor_for(organization_id: int, user_id: int) -> Actor | None:
    """The person acting through their membership, or ``None`` if they left."""
    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(organization_id=organization_id, user_id=user_id)
        .first()
    )
    if membership is None:
        return None
    return Actor(organization=membership.organization, role=membership.role, user=membership.user)


def language_of(user_id: int | None) -> str:
    """The language a person chose in their staff profile; English without one."""
    if user_id is None:
        return "en"
    found = StaffProfile.objects.filter(user_id=user_id).values_list("language", flat=True)
    return found.first() or "en"


def act_on_incident(actor: Actor, incident_public_id: str, action: str) -> str:
    """Acknowledge or resolve an incident; returns what to tell the person."""
    incident = (
        Incident.objects.select_related("device", "customer")
        .filter(organization=actor.organization, public_id=incident_public_id)
        .first()
    )
    if incident is None:
        return _("This alert is no longer known.")
    if not actor.can_write:
        return _("Your role may not change incidents.")
    if action == SILENCE:
        held = escalation.silence(actor.organization.pk, str(incident.public_id))
        if not held:
            return _("Nothing is escalating for this alert.")
        return _("Silenced for %(minutes)s minutes: %(title)s.") % {
            "minutes": escalation.SILENCE_MINUTES,
            "title": incident.display_title,
        }
    try:
        if action == ACKNOWLEDGE:
            actions.acknowledge_incident(acting_user=actor, incident=incident, note="by phone")
            return _("Acknowledged: %(title)s.") % {"title": incident.display_title}
        actions.resolve_incident(acting_user=actor, incident=incident, note="by phone")
        return _("Resolved: %(title)s.") % {"title": incident.display_title}
    except (ApiError, ValidationError):
        # Someone (or this person, pressing twice) got there first: the action refuses
        # a state it cannot leave; say where the incident stands instead of failing.
        incident.refresh_from_db(fields=["status"])
        return already_said(incident)


def already_said(incident) -> str:
    """What to tell a person whose keypress or reply found the incident already moved on."""
    if incident.status == IncidentStatus.RESOLVED:
        return _("Nothing changed: this alert is already resolved: %(title)s.") % {
            "title": incident.display_title
        }
    if incident.status == IncidentStatus.ACKNOWLEDGED:
        return _("Nothing changed: this alert is already acknowledged: %(title)s.") % {
            "title": incident.display_title
        }
    return _("Nothing changed: %(title)s.") % {"title": incident.display_title}


def user_by_id(user_id: int):
    return get_user_model().objects.filter(pk=user_id).first()
