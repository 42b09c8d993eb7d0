"""Which notification rules an event matches, and why (or why not).

Rules:
- a rule matches when its event types, scope, ticket status change and conditions
  all pass; each check that fails is named in the verdict;
- scope: a customer rule applies to every device of that customer; for an event
  about a device, a matching device rule overrides that customer's matching rules
  (they are recorded as "overridden"); organization rules always apply;
- a rule never fires for events recorded before it was created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sofno.events.catalog import matches
from sofno.events.triggers import lookup

OPS = ("eq", "ne", "in", "contains", "exists", "gte", "lte")


@dataclass
class Verdict:
    """A rule's verdict on one event."""

    rule: Any
    matched: bool
    reasons: list[str] = field(default_factory=list)


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


def check_condition(condition: dict, payload: dict) -> tuple[bool, str]:
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
            return False, f"{token} ({actual!r}) is not a number"
        ok = a >= w if op == "gte" else a <= w
    else:
        return False, f"unknown operator {op!r}"
    shown = f"{token} {op} {wanted!r}" if op != "exists" else f"{token} exists"
    return ok, (f"{shown}: yes" if ok else f"{shown}: no (it is {actual!r})")


def evaluate(rule, event, customer_id: str, device_id: str) -> Verdict:
    """The verdict of one rule on one event (scope overrides are applied later)."""
    reasons: list[str] = []
    if event.recorded_at < rule.created_at:
        return Verdict(rule, False, ["the event is older than the rule"])
    if not rule.event_types or not matches(rule.event_types, event.type):
        return Verdict(rule, False, [f"event type {event.type} is not selected"])
    reasons.append(f"event type {event.type} is selected")
    if rule.scope == "customer":
        wanted = str(rule.customer.public_id) if rule.customer_id else ""
        if customer_id != wanted:
            return Verdict(rule, False, [*reasons, "the event is about another customer"])
        reasons.append(f"customer is {rule.customer.name}")
    elif rule.scope == "device":
        wanted = str(rule.device.public_id) if rule.device_id else ""
        if device_id != wanted:
            return Verdict(rule, False, [*reasons, "the event is about another device"])
        reasons.append(f"device is {rule.device.name}")
    payload = event.payload or {}
    if rule.ticket_status_from:
        if not _status_matches(rule.ticket_status_from, payload.get("previous_status")):
            return Verdict(
                rule, False, [*reasons, f"ticket status was not {rule.ticket_status_from}"]
            )
        reasons.append(f"ticket status was {rule.ticket_status_from}")
    if rule.ticket_status_to:
        if not _status_matches(rule.ticket_status_to, payload.get("status")):
            return Verdict(rule, False, [*reasons, f"ticket status is not {rule.ticket_status_to}"])
        reasons.append(f"ticket status is {rule.ticket_status_to}")
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
        names = ", ".join(repr(r.name) for r in device_rules)
        for verdict in verdicts:
            if verdict.matched and verdict.rule.scope == "customer":
                verdict.matched = False
                verdict.reasons.append(f"overridden by the device rule {names}")
    return verdicts
