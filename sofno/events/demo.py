"""Sample event-hub data for ``sofno demo``."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User

from sofno.core.access import Actor
from sofno.core.models import Organization, Role
from sofno.events import actions


def seed(organization: Organization, owner: User) -> None:
    """The billing catalog, a "3 days after invoice.delivered at 09:00" trigger, a consumer."""
    who = Actor(organization=organization, role=Role.OWNER, user=owner)
    actions.install_catalog(acting_user=who, name="billing")
    actions.save_trigger(
        acting_user=who,
        fields={
            "name": "Payment reminder",
            "source_type": "invoice.delivered",
            "timestamp_token": "delivered_at",
            "offset_minutes": 3 * 24 * 60,
            "at_local_time": dt.time(9, 0),
            "emit_type": "invoice.overdue",
        },
    )
    actions.save_consumer(acting_user=who, fields={"name": "Data warehouse", "event_types": []})
