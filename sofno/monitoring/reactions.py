"""Reactions to other apps' events (through the event log's commit listeners)."""

from __future__ import annotations

import logging

from sofno.events.models import Event

log = logging.getLogger(__name__)

# A customer change that can release alerts held back for that customer.
_RELEASING = {"alerts_enabled", "active"}


def on_events_committed(events: list[Event]) -> None:
    """``events.on_committed`` listener: when a customer's alerts are turned back on
    (or the customer re-activated), plan the alerts of its open incidents now.

    Runs after the customer change committed; a failure here is logged and never
    undoes or fails the change itself.
    """
    from sofno.monitoring.actions import replan_held_alerts

    customer_ids = [
        event.payload["customer"]["id"]
        for event in events
        if event.type == "customer.updated"
        and _RELEASING & set(event.payload.get("changed") or ())
        and event.payload.get("customer", {}).get("id")
    ]
    if not customer_ids:
        return
    try:
        replan_held_alerts(customer_ids)
    except Exception:
        log.exception("re-planning held alerts failed for customers %s", customer_ids)
