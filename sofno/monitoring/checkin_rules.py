"""The rules of a stored check-in, written once for both write paths.

The batched SQL statement (:mod:`sofno.monitoring.fastpath`, PostgreSQL) and the
transactional Django path (:mod:`sofno.monitoring.checkin`) both derive what they
write from the definitions here:

- **Facts**: :data:`FACTS` names every fact a check-in may carry, its type and bounds,
  and the device column it also sets. Anything else in a body is dropped before the
  write. A fact merges into ``Device.facts`` (newer values win); a non-empty text
  fact with a column also sets that column (an empty one leaves it alone).
- **Deadline**: ``at`` plus the sum of the device's :data:`DEADLINE_FIELDS` seconds
  (``Device.deadline_from``).
- **History**: a ring of the latest ``SOFNO_CHECKIN_HISTORY`` check-ins per device.
  Check-in number ``seq`` (``Device.checkins_seen`` after counting it) lands in slot
  ``seq % size``, overwriting the check-in ``size`` before it; each slot keeps the
  time, the IP and the facts that check-in sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sofno.monitoring import conf
from sofno.monitoring.models import Device

# Bigger numbers than this are no measurement a computer reports (and stay exact
# in every JSON reader).
MAX_NUMBER = 2**53


@dataclass(frozen=True)
class Fact:
    """One system fact a check-in may report."""

    name: str
    text: bool  # text, or else a non-negative finite number
    max_length: int = 200
    column: str | None = None  # the Device column it also sets


FACTS: tuple[Fact, ...] = (
    Fact("hostname", text=True),
    Fact("os_version", text=True),
    Fact("uptime", text=False),
    Fact("disk_free", text=False),
    Fact(
        "agent_version",
        text=True,
        max_length=Device._meta.get_field("agent_version").max_length,
        column="agent_version",
    ),
)
FACTS_BY_NAME = {fact.name: fact for fact in FACTS}

DEADLINE_FIELDS = Device.DEADLINE_FIELDS


def history_size() -> int:
    """How many check-ins each device's history ring holds."""
    return conf.history_size()


def apply_fact_columns(device: Device, facts: dict | None) -> list[str]:
    """Set the device columns that facts carry (Python half of :func:`fact_columns_sql`)."""
    changed = []
    for fact in FACTS:
        value = (facts or {}).get(fact.name)
        if fact.column and value and value != getattr(device, fact.column):
            setattr(device, fact.column, value)
            changed.append(fact.column)
    return changed


def merged_facts(current: dict | None, facts: dict | None) -> dict:
    """``Device.facts`` after a check-in (Python half of the SQL ``||``)."""
    return {**(current or {}), **(facts or {})}


def fact_columns_sql(device: str, values: str) -> str:
    """``SET`` items for the columns facts carry (SQL half of :func:`apply_fact_columns`)."""
    return "".join(
        f",\n        {fact.column} = COALESCE(NULLIF({values}.facts ->> '{fact.name}', ''),"
        f" {device}.{fact.column})"
        for fact in FACTS
        if fact.column
    )


def deadline_sql(device: str, at: str) -> str:
    """The deadline of ``device`` checking in at ``at`` (SQL half of ``deadline_from``)."""
    seconds = " + ".join(f"{device}.{name}" for name in DEADLINE_FIELDS)
    return f"{at} + make_interval(secs => {seconds})"


def slot_of(seq: int, size: int) -> int:
    """The ring slot of check-in number ``seq`` (the SQL uses the same ``%``)."""
    return seq % size
