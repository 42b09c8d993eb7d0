"""Why the notification engine did something, kept as a code and its parameters and
put into words only when someone reads it, in the reader's language.

Rules:
- the engine writes a code (below) and a dict of parameters; it never writes a
  sentence, so an es/it/ca reader never sees the worker's English;
- parameters are plain values (names of customers, devices, people; counts), a moment
  (:func:`moment`: ``{"at": ISO, "zone": IANA name}``, shown in that zone with the
  active language's date format) or another reason (:func:`reason`: ``{"code": ...,
  "params": ...}``, described in turn);
- :func:`describe` renders one; :func:`text` renders an entry that may also be a
  sentence written before codes existed (shown as it is);
- the codes are stable: the API exposes them so integrations can match on them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# -- holds of the alert policy (``notify.routing.policy``; the same values as HoldReason)
CUSTOMER_INACTIVE = "customer_inactive"
ALERTS_OFF = "alerts_off"
OUR_OUTAGE = "our_outage"
MAINTENANCE = "maintenance"
OUTSIDE_HOURS = "outside_hours"
# -- what became of a hold, on the event's rule verdicts
HELD = "held"
STILL_HELD = "still_held"
HOLD_RELEASED = "hold_released"
HOLD_DROPPED = "hold_dropped"
RULE_GONE = "rule_gone"
# -- whether what an event says is still true when its hold ends (``still_true``)
STILL_RELEVANT = "still_relevant"
INCIDENT_STILL_OPEN = "incident_still_open"
INCIDENT_ACKNOWLEDGED_MEANWHILE = "incident_acknowledged_meanwhile"
INCIDENT_RESOLVED_MEANWHILE = "incident_resolved_meanwhile"
DEVICE_STILL_OFFLINE = "device_still_offline"
DEVICE_BACK_MEANWHILE = "device_back_meanwhile"
DEVICE_STILL_ONLINE = "device_still_online"
DEVICE_OFFLINE_AGAIN = "device_offline_again"
# -- a person's quiet hours and the rule's business hours (``notify.routing.quiet``)
QUIET_THROUGH = "quiet_through"
QUIET_NEXT = "quiet_next"
EVERYONE_QUIET = "everyone_quiet"
DEFERRED_QUIET = "deferred_quiet"
DEFERRED_HOURS = "deferred_hours"
DEFERRED_QUIET_HOURS = "deferred_quiet_hours"
# -- a rule's verdict on an event (``notify.rules.matching``)
RULE_NEWER = "rule_newer"
TYPE_NOT_SELECTED = "type_not_selected"
TYPE_SELECTED = "type_selected"
OTHER_CUSTOMER = "other_customer"
CUSTOMER_IS = "customer_is"
OTHER_DEVICE = "other_device"
DEVICE_IS = "device_is"
TICKET_STATUS_WAS = "ticket_status_was"
TICKET_STATUS_WAS_NOT = "ticket_status_was_not"
TICKET_STATUS_IS = "ticket_status_is"
TICKET_STATUS_IS_NOT = "ticket_status_is_not"
CONDITION_YES = "condition_yes"
CONDITION_NO = "condition_no"
CONDITION_NOT_NUMBER = "condition_not_number"
CONDITION_UNKNOWN_OPERATOR = "condition_unknown_operator"
OVERRIDDEN = "overridden"
# operators of a condition, as another reason's parameter
OP_EQ, OP_NE, OP_IN, OP_CONTAINS = "op_eq", "op_ne", "op_in", "op_contains"
OP_EXISTS, OP_GTE, OP_LTE = "op_exists", "op_gte", "op_lte"
# -- who a rule names, and who could not be reached (``notify.routing.recipients``,
# ``notify.routing.planning``, ``notify.routing.router``)
ASSIGNED_NO_CUSTOMER = "assigned_no_customer"
ON_CALL_FALLBACK = "on_call_fallback"
NOBODY_ON_CALL = "nobody_on_call"
MEMBER_NOT_FOUND = "member_not_found"
CONTACTS_NO_CUSTOMER = "contacts_no_customer"
NO_ACCOUNT = "no_account"
PRIMARY_NO_CUSTOMER = "primary_no_customer"
NO_PRIMARY_CONTACT = "no_primary_contact"
UNKNOWN_RECIPIENT_KIND = "unknown_recipient_kind"
INSTALLER_NO_DEVICE = "installer_no_device"
INSTALLER_UNKNOWN = "installer_unknown"
INSTALLER_GONE = "installer_gone"
NO_EMAIL = "no_email"
NO_PHONE = "no_phone"
CALL_PATCH_NO_CONTACT = "call_patch_no_contact"
TEMPLATE_REFUSED = "template_refused"
DELIVERIES_PLANNED = "deliveries_planned"
ADMINS_BUILT_IN = "admins_built_in"
ESCALATION_NO_INCIDENT = "escalation_no_incident"
ESCALATION_NOT_OPEN = "escalation_not_open"
ESCALATION_RUNNING = "escalation_running"
ESCALATION_STARTED = "escalation_started"
# Someone who cannot be reached: the ticket page lists these.
UNREACHED = frozenset({NO_EMAIL, NO_PHONE, NO_PRIMARY_CONTACT, NO_ACCOUNT})
# -- why an escalation stopped (``notify.escalation.chain``)
STOPPED_ACKNOWLEDGED = "stopped_acknowledged"
STOPPED_RESOLVED = "stopped_resolved"
STOPPED_MERGED = "stopped_merged"
STOPPED_INCIDENT_ACKNOWLEDGED = "stopped_incident_acknowledged"
STOPPED_INCIDENT_RESOLVED = "stopped_incident_resolved"
STOPPED_INCIDENT_DELETED = "stopped_incident_deleted"
# -- why a webhook endpoint was turned off (``notify.delivery.machinery``)
WEBHOOK_GONE = "webhook_gone"
WEBHOOK_FAILING = "webhook_failing"
WEBHOOK_BY_HAND = "webhook_by_hand"
WEBHOOK_EXAMPLE = "webhook_example"

TEXTS: dict[str, Promise] = {
    CUSTOMER_INACTIVE: _("%(customer)s is inactive"),
    ALERTS_OFF: _("%(customer)s's alerts are turned off"),
    OUR_OUTAGE: _(
        "we suspect our own outage (%(silent)s of %(total)s computers of %(customers)s "
        "customers went silent together): held until it ends"
    ),
    MAINTENANCE: _("%(name)s is in maintenance (%(why)s) until %(until)s"),
    OUTSIDE_HOURS: _("outside %(customer)s's business hours until %(until)s"),
    HELD: _("held: %(hold)s"),
    STILL_HELD: _("still held: %(hold)s"),
    HOLD_RELEASED: _("sent when the hold ended: %(why)s"),
    HOLD_DROPPED: _("dropped: %(why)s"),
    RULE_GONE: _("the rule was disabled or deleted"),
    STILL_RELEVANT: _("still relevant"),
    INCIDENT_STILL_OPEN: _("the incident is still open"),
    INCIDENT_ACKNOWLEDGED_MEANWHILE: _("someone acknowledged the incident meanwhile"),
    INCIDENT_RESOLVED_MEANWHILE: _("the incident was resolved meanwhile (the device came back)"),
    DEVICE_STILL_OFFLINE: _("the device is still offline"),
    DEVICE_BACK_MEANWHILE: _("the device came back meanwhile"),
    DEVICE_STILL_ONLINE: _("the device is still online"),
    DEVICE_OFFLINE_AGAIN: _("the device went offline again meanwhile"),
    QUIET_THROUGH: _("critical: sent during %(person)s's quiet hours"),
    QUIET_NEXT: _("%(person)s is in quiet hours: next person"),
    EVERYONE_QUIET: _("everyone is in quiet hours: deferred instead"),
    DEFERRED_QUIET: _("deferred until %(until)s: %(person)s's quiet hours"),
    DEFERRED_HOURS: _("deferred until %(until)s: outside business hours"),
    DEFERRED_QUIET_HOURS: _(
        "deferred until %(until)s: %(person)s's quiet hours, then outside business hours"
    ),
    RULE_NEWER: _("the event is older than the rule"),
    TYPE_NOT_SELECTED: _("event type %(type)s is not selected"),
    TYPE_SELECTED: _("event type %(type)s is selected"),
    OTHER_CUSTOMER: _("the event is about another customer"),
    CUSTOMER_IS: _("customer is %(customer)s"),
    OTHER_DEVICE: _("the event is about another device"),
    DEVICE_IS: _("device is %(device)s"),
    TICKET_STATUS_WAS: _("ticket status was %(status)s"),
    TICKET_STATUS_WAS_NOT: _("ticket status was not %(status)s"),
    TICKET_STATUS_IS: _("ticket status is %(status)s"),
    TICKET_STATUS_IS_NOT: _("ticket status is not %(status)s"),
    CONDITION_YES: _("%(token)s %(op)s %(value)s: yes"),
    CONDITION_NO: _("%(token)s %(op)s %(value)s: no (it is %(actual)s)"),
    CONDITION_NOT_NUMBER: _("%(token)s (%(actual)s) is not a number"),
    CONDITION_UNKNOWN_OPERATOR: _("unknown operator %(op)s"),
    OVERRIDDEN: _("overridden by the device rule %(rules)s"),
    OP_EQ: _("is"),
    OP_NE: _("is not"),
    OP_IN: _("is one of"),
    OP_CONTAINS: _("contains"),
    OP_EXISTS: _("is present"),
    OP_GTE: _("is at least"),
    OP_LTE: _("is at most"),
    ASSIGNED_NO_CUSTOMER: _("assigned agents: the event names no customer"),
    ON_CALL_FALLBACK: _("nobody on call: the fallback person instead"),
    NOBODY_ON_CALL: _("nobody on call and no fallback person"),
    MEMBER_NOT_FOUND: _("member %(member)s not found"),
    CONTACTS_NO_CUSTOMER: _("contacts: the event names no customer"),
    NO_ACCOUNT: _("technician %(person)s has no user account in the organization"),
    PRIMARY_NO_CUSTOMER: _("primary contact: the event names no customer"),
    NO_PRIMARY_CONTACT: _("%(customer)s has no primary %(kind)s contact"),
    UNKNOWN_RECIPIENT_KIND: _("unknown kind of recipient %(kind)s"),
    INSTALLER_NO_DEVICE: _("installer: the event names no computer"),
    INSTALLER_UNKNOWN: _("installer: nobody is recorded as having installed the computer"),
    INSTALLER_GONE: _("installer: the person who installed it is no longer a member"),
    NO_EMAIL: _("%(person)s has no email"),
    NO_PHONE: _("%(person)s has no phone"),
    CALL_PATCH_NO_CONTACT: _("call patch: no reachable contact at %(customer)s"),
    TEMPLATE_REFUSED: _("template %(template)s refused, sent with the default wording: %(error)s"),
    DELIVERIES_PLANNED: _("deliveries: %(count)s; recipients: %(people)s"),
    ADMINS_BUILT_IN: _("built in: monitoring's own health goes to the admins (email and in-app)"),
    ESCALATION_NO_INCIDENT: _("escalation: the event names no incident"),
    ESCALATION_NOT_OPEN: _("escalation: the incident is not open"),
    ESCALATION_RUNNING: _("escalation already running (step %(step)s)"),
    ESCALATION_STARTED: _("escalation %(policy)s started"),
    STOPPED_ACKNOWLEDGED: _("acknowledged by %(person)s"),
    STOPPED_RESOLVED: _("resolved by %(person)s"),
    STOPPED_MERGED: _("joined the site's incident (%(person)s)"),
    STOPPED_INCIDENT_ACKNOWLEDGED: _("the incident was acknowledged"),
    STOPPED_INCIDENT_RESOLVED: _("the incident was resolved"),
    STOPPED_INCIDENT_DELETED: _("the incident was deleted"),
    WEBHOOK_GONE: _("the endpoint answered 410 Gone: it no longer exists"),
    WEBHOOK_FAILING: _("failing without a success since %(since)s"),
    WEBHOOK_BY_HAND: _("disabled by hand"),
    WEBHOOK_EXAMPLE: _("an example, turned off so that it sends nothing"),
}
# The words when an optional parameter is empty (no end known, nobody named, ...).
WITHOUT: dict[tuple[str, str], Promise] = {
    (MAINTENANCE, "why"): _("%(name)s is in maintenance until %(until)s"),
    (CONDITION_YES, "value"): _("%(token)s %(op)s: yes"),
    (CONDITION_NO, "value"): _("%(token)s %(op)s: no (it is %(actual)s)"),
    (OUTSIDE_HOURS, "until"): _("outside %(customer)s's business hours"),
    (STOPPED_ACKNOWLEDGED, "person"): _("acknowledged"),
    (STOPPED_RESOLVED, "person"): _("resolved"),
    (STOPPED_MERGED, "person"): _("joined the site's incident"),
}
# Parameters that name a person: empty, they read "the recipient".
PERSON_PARAMS = ("person",)


def moment(at: dt.datetime, zone: Any = None) -> dict[str, str]:
    """A moment as a parameter: the instant and the zone it is shown in (a ZoneInfo,
    an IANA name, or ``None`` for UTC)."""
    name = zone if isinstance(zone, str) else getattr(zone, "key", "UTC")
    return {"at": at.isoformat(), "zone": name}


def reason(code: str, **params: Any) -> dict[str, Any]:
    """A reason as stored in a list of reasons or as another reason's parameter."""
    return {"code": code, "params": params} if params else {"code": code}


def _moment_words(value: dict[str, Any]) -> str:
    try:
        at = dt.datetime.fromisoformat(value["at"])
    except (KeyError, TypeError, ValueError):
        return ""
    try:
        zone = ZoneInfo(str(value.get("zone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = localtime(at, zone)
    # The zone's abbreviation: a customer's hours are in its zone, not the reader's.
    return f"{date_format(local, 'SHORT_DATETIME_FORMAT')} {local.tzname()}"


def _param_words(value: Any) -> Any:
    if isinstance(value, dict) and "code" in value:
        return describe(value["code"], value.get("params"))
    if isinstance(value, dict) and "at" in value:
        return _moment_words(value)
    if value is None:
        return ""
    return value


def describe(code: str, params: dict[str, Any] | None = None) -> str:
    """The words for ``code`` with ``params``, in the active language.

    - an unknown code gives an empty string (never the code itself);
    - a missing parameter reads as empty rather than failing the page.
    """
    params = dict(params or {})
    template = TEXTS.get(code)
    if template is None:
        return ""
    for (alt_code, param), alternative in WITHOUT.items():
        if alt_code == code and not params.get(param):
            template = alternative
    words = {key: _param_words(value) for key, value in params.items()}
    for key in PERSON_PARAMS:
        if not words.get(key):
            words[key] = gettext("the recipient")
    return str(template) % _Defaults(words)


def text(entry: Any) -> str:
    """One stored entry in words: a reason (``{"code", "params"}``) described, a
    sentence written before reasons had codes shown as it is."""
    if isinstance(entry, dict):
        return describe(str(entry.get("code", "")), entry.get("params"))
    return "" if entry is None else str(entry)


def code_of(entry: Any) -> str:
    """The code of a stored entry; empty for a sentence written before codes."""
    return str(entry.get("code", "")) if isinstance(entry, dict) else ""


class _Defaults(dict):
    """Parameters for ``%``: one the code's words name but the row lacks reads empty."""

    def __missing__(self, key: str) -> str:
        return ""
