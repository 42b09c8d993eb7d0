"""Which notification rules an event matches, and why (or why not).

Rules:
- a rule matches when its event types, scope, ticket status change and conditions
  all pass; each check that fails is named in the verdict;
- scope: a customer rule applies to every device of that customer; for an event
  about a device, a matching device rule overrides that customer's matching rules
  (they are recorded as "overridden"); organization rules always apply;
- a rule never fires for events recorded before it was created;
- the reasons are ``notify.reasons`` entries (a code and its parameters), put into
  words in the reader's language on the event's routing page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sofno.events.catalog import matches
from sofno.events.triggers import lookup
from sofno.notify import reasons as why

OPS = ("eq", "ne", "in", "contains", "exists", "gte", "lte")
OP_CODES = {
    "eq": why.OP_EQ,
    "ne": why.OP_NE,
    "in": why.OP_IN,
    "contains": why.OP_CONTAINS,
    "exists": why.OP_EXISTS,
    "gte": why.OP_GTE,
    "lte": why.OP_LTE,
}


@dataclass
class Verdict:
    """A rule's verdict on one event."""

    rule: Any
    matched: bool
    reasons: list[dict[str, Any]] = field(default_factory=list)


def subject_ids(event) -> tuple[str, str]:
    """``(customer public id, device public id)`` an event is about ("" when none)."""
    payload = event.payload or {}
    customer = payload.get("customer_id") or lookup(payload, "customer.id") or ""
    device = payload.get("device_id") or lookup(payload, "device.id") or ""
    if not device and (event.subject or "").startswith("device:"):
        device = event.subject.split(":", 1)[1]
    return str(customer), str(device)


def _status_matches(wanted: str, status: Any) -> bool:
    if not isinstance(status, dict):
        return False
    wanted = wanted.strip().lower()
    return wanted in {str(status.get("slug", "")).lower(), str(status.get("name", "")).lower()}


def _shown(value: Any) -> str:
    """A condition's value as the rule's author wrote it (JSON: quoted text, lists)."""
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def check_condition(condition: dict, payload: dict) -> tuple[bool, dict[str, Any]]:
    """One ``{"token", "op", "value"}`` condition against a payload, with its reason."""
    token, op, wanted = (
        condition.get("token", ""),
        condition.get("op", "eq"),
        condition.get("value"),
    )
    actual = lookup(payload, token)
    if op == "exists":
        ok = actual is not None
    elif op == "eq":
        ok = actual == wanted or (actual is not None and str(actual) == str(wanted))
    elif op == "ne":
        ok = not (actual == wanted or (actual is not None and str(actual) == str(wanted)))
    elif op == "in":
        ok = isinstance(wanted, list) and (actual in wanted or str(actual) in map(str, wanted))
    elif op == "contains":
        ok = actual is not None and str(wanted).lower() in str(actual).lower()
    elif op in ("gte", "lte"):
        try:
            a, w = float(actual), float(wanted)
        except (TypeError, ValueError):
            return False, why.reason(why.CONDITION_NOT_NUMBER, token=token, actual=_shown(actual))
        ok = a >= w if op == "gte" else a <= w
    else:
        return False, why.reason(why.CONDITION_UNKNOWN_OPERATOR, op=str(op))
    params: dict[str, Any] = {
        "token": token,
        "op": why.reason(OP_CODES[op]),
        "value": _shown(wanted) if op != "exists" else "",
    }
    if ok:
        return True, why.reason(why.CONDITION_YES, **params)
    return False, why.reason(why.CONDITION_NO, **params, actual=_shown(actual))


def evaluate(rule, event, customer_id: str, device_id: str) -> Verdict:
    """The verdict of one rule on one event (scope overrides are applied later)."""
    reasons: list[dict[str, Any]] = []
    if event.recorded_at < rule.created_at:
        return Verdict(rule, False, [why.reason(why.RULE_NEWER)])
    if not rule.event_types or not matches(rule.event_types, event.type):
        return Verdict(rule, False, [why.reason(why.TYPE_NOT_SELECTED, type=event.type)])
    reasons.append(why.reason(why.TYPE_SELECTED, type=event.type))
    if rule.scope == "customer":
        wanted = str(rule.customer.public_id) if rule.customer_id else ""
        if customer_id != wanted:
            return Verdict(rule, False, [*reasons, why.reason(why.OTHER_CUSTOMER)])
        reasons.append(why.reason(why.CUSTOMER_IS, customer=rule.customer.name))
    elif rule.scope == "device":
        wanted = str(rule.device.public_id) if rule.device_id else ""
        if device_id != wanted:
            return Verdict(rule, False, [*reasons, why.reason(why.OTHER_DEVICE)])
        reasons.append(why.reason(why.DEVICE_IS, device=rule.device.name))
    payload = event.payload or {}
    if rule.ticket_status_from:
        status = rule.ticket_status_from
        if not _status_matches(status, payload.get("previous_status")):
            return Verdict(
                rule, False, [*reasons, why.reason(why.TICKET_STATUS_WAS_NOT, status=status)]
            )
        reasons.append(why.reason(why.TICKET_STATUS_WAS, status=status))
    if rule.ticket_status_to:
        status = rule.ticket_status_to
        if not _status_matches(status, payload.get("status")):
            return Verdict(
                rule, False, [*reasons, why.reason(why.TICKET_STATUS_IS_NOT, status=status)]
            )
        reasons.append(why.reason(why.TICKET_STATUS_IS, status=status))
    for condition in rule.conditions or []:
        ok, reason = check_condition(condition, payload)
        reasons.append(reason)
        if not ok:
            return Verdict(rule, False, reasons)
    return Verdict(rule, True, reasons)


def evaluate_all(rules: list, event) -> list[Verdict]:
    """Every rule's verdict on ``event``, with device rules overriding customer rules."""
    customer_id, device_id = subject_ids(event)
    verdicts = [evaluate(rule, event, customer_id, device_id) for rule in rules]
    device_rules = [v.rule for v in verdicts if v.matched and v.rule.scope == "device"]
    if device_rules:
        names = ", ".join(r.name for r in device_rules)
        for verdict in verdicts:
            if verdict.matched and verdict.rule.scope == "customer":
                verdict.matched = False
                verdict.reasons.append(why.reason(why.OVERRIDDEN, rules=names))
    return verdicts
