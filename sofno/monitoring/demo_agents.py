"""Simulated agents for ``sofno demo``: the sample devices check in as real ones do.

Without them every sample device falls silent a few minutes after the demo starts and
the demo looks broken. Each simulated agent posts to the demo server's real check-in
endpoint (the same path a real agent takes) and waits what the server answers in
``next_checkin_in``, so changing the organization's check-in timing changes theirs.

One device, the first by name, is the flaky one: it stops checking in for
``dropout_for`` seconds every ``dropout_every`` seconds, so the whole incident flow
(offline, incident, alert, back online, resolved) can be watched.

Device keys are stored hashed, so the demo gives its devices new keys once and keeps
the plain ones in the data directory (demo only, owner-readable, like the demo's
credentials file).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model

from sofno.core.access import Actor
from sofno.core.models import Organization, Role
from sofno.monitoring import actions
from sofno.monitoring.models import Device

log = logging.getLogger(__name__)

KEYS_FILE = "demo-agent-keys.json"
AGENT_VERSION = "demo-agent"


@dataclass
class SimulatedAgent:
    """One sample device's agent: its key, and when it checks in next."""

    name: str
    key: str
    flaky: bool = False
    next_at: float = 0.0


@dataclass(frozen=True)
class Dropout:
    """The flaky device is silent ``length`` seconds out of every ``every`` seconds."""

    every: float
    length: float

    def silent(self, elapsed: float) -> bool:
        """Whether the flaky device keeps quiet ``elapsed`` seconds after the start."""
        if self.every <= 0 or self.length <= 0:
            return False
        # The first silence starts one full period in, so a fresh demo starts all green.
        return elapsed >= self.every and (elapsed % self.every) < self.length


def prepare(organization: Organization) -> list[SimulatedAgent]:
    """The demo organization's devices with their plain keys (issued once, then kept)."""
    path = Path(settings.DATA_DIR) / KEYS_FILE
    try:
        known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        known = {}
    devices = list(Device.objects.filter(organization=organization).order_by("name"))
    missing = [d for d in devices if str(d.public_id) not in known]
    if missing:
        actor = _owner_actor(organization)
        for device in missing:
            known[str(device.public_id)] = actions.rotate_device_key(
                acting_user=actor, device=device
            )
        path.touch(mode=0o600)
        path.write_text(json.dumps(known))
    return [
        SimulatedAgent(name=d.name, key=known[str(d.public_id)], flaky=index == 0)
        for index, d in enumerate(devices)
    ]


def _owner_actor(organization: Organization) -> Actor:
    owner = (
        get_user_model()
        .objects.filter(memberships__organization=organization, memberships__role=Role.OWNER)
        .first()
    )
    return Actor(organization=organization, role=Role.OWNER, user=owner)


def run(
    agents: list[SimulatedAgent], base_url: str, stop: threading.Event, dropout: Dropout
) -> None:
    """Check every agent in when it is due until ``stop`` is set."""
    started = time.monotonic()
    with httpx.Client(base_url=base_url, timeout=10) as client:
        while not stop.is_set():
            now = time.monotonic()
            for agent in agents:
                if agent.next_at > now:
                    continue
                if agent.flaky and dropout.silent(now - started):
                    agent.next_at = now + 1.0
                    continue
                agent.next_at = now + _check_in(client, agent)
            soonest = min((a.next_at for a in agents), default=now + 1.0)
            stop.wait(min(1.0, max(0.05, soonest - time.monotonic())))


def _check_in(client: httpx.Client, agent: SimulatedAgent) -> float:
    """Post one check-in; returns the seconds until the next one."""
    try:
        answer = client.post(
            "api/v1/checkin",
            json={"agent_version": AGENT_VERSION, "hostname": agent.name},
            headers={"Authorization": f"Device {agent.key}"},
        )
        if answer.status_code == 200:
            return max(1.0, float(answer.json().get("next_checkin_in") or 60))
        log.info("demo agent %s: check-in answered %s", agent.name, answer.status_code)
    except (httpx.HTTPError, ValueError) as exc:
        log.info("demo agent %s: check-in failed: %s", agent.name, exc)
    return 5.0


def start(organization: Organization, base_url: str, stop: threading.Event, **options) -> None:
    """Start the simulated agents of ``organization`` in a daemon thread."""
    agents = prepare(organization)
    dropout = Dropout(
        every=float(options.get("dropout_every", 600)),
        length=float(options.get("dropout_for", 240)),
    )
    thread = threading.Thread(
        target=run, args=(agents, base_url, stop, dropout), name="demo-agents", daemon=True
    )
    thread.start()
