"""Sample notification rules for ``sofno demo``: the bell rings for what matters."""

from __future__ import annotations

from sofno.notify.models import EscalationPolicy, NotificationRule


def seed(organization, owner) -> None:
    """Rules for incidents (with a short escalation) and ticket changes, in-app only.

    In-app only, so the demo never emails or calls anyone; add channels in the web.
    """
    policy = EscalationPolicy.objects.create(
        organization=organization,
        name="Incidents: agents, then admins",
        steps=[
            {
                "recipients": [{"kind": "assigned_agents"}, {"kind": "on_call"}],
                "channels": [],
                "wait_minutes": 10,
            },
            {
                "recipients": [{"kind": "role", "value": "admin"}],
                "channels": [],
                "wait_minutes": 20,
            },
        ],
        repeat=1,
    )
    NotificationRule.objects.create(
        organization=organization,
        name="Device offline: assigned agents",
        event_types=["device.offline"],
        recipients=[{"kind": "assigned_agents"}],
        channels=[],
        fallback_user=owner,
    )
    NotificationRule.objects.create(
        organization=organization,
        name="Incident alert: escalate",
        event_types=["incident.alert"],
        recipients=[],
        channels=[],
        escalation_policy=policy,
        fallback_user=owner,
    )
    NotificationRule.objects.create(
        organization=organization,
        name="Tickets: technicians",
        event_types=["ticket.assigned", "ticket.status_changed"],
        recipients=[{"kind": "technicians"}],
        channels=[],
    )
