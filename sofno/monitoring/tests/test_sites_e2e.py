"""End to end with real processes: four agents of one customer stopped together are
one site incident and one alert; one agent of another customer is a device incident;
restarting them resolves both. ``sofno serve``, ``sofno worker`` and five
``sofno agent`` processes on a file SQLite database."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sofno.conftest import sofno_env, wait_for

SOFNO = [sys.executable, "-c", "from sofno.cli import main; main()"]

pytestmark = pytest.mark.slow

SEED = """
from sofno.core.access import Actor
from sofno.core.models import Organization
from sofno.core.testing import make_user
from sofno.directory.models import Customer
from sofno.monitoring import actions
from sofno.monitoring.models import MonitoringDefaults
from sofno.notify.models import NotificationRule
org = Organization.objects.create(slug="sites", name="Sites")
MonitoringDefaults.objects.create(organization=org, checkin_interval=2, grace=1)
make_user("olga", org, "owner")
NotificationRule.objects.create(
    organization=org, name="Page the admins", event_types=["incident.alert"],
    recipients=[{"kind": "role", "value": "admin"}], channels=["inapp"],
)
owner = Actor(organization=org, role="owner")
for name in ("Café Central", "Bar Sport"):
    customer = Customer.objects.create(organization=org, name=name)
    print("TOKEN", name, actions.rotate_enrollment_token(acting_user=owner, customer=customer))
"""


@pytest.fixture
def stack(tmp_path: Path, migrated):
    """``sofno serve`` and ``sofno worker`` on the embedded defaults in ``tmp_path``,
    seeded with two customers; ``start`` runs more processes, stopped at the end."""
    env = sofno_env(tmp_path)
    migrated.sqlite(tmp_path / "sofno.sqlite3")
    seeded = subprocess.run(
        [*SOFNO, "manage", "shell", "-c", SEED],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    processes = []

    def start(*args, **kwargs):
        process = subprocess.Popen([*SOFNO, *args], env=env, **kwargs)
        processes.append(process)
        return process

    server = start("serve", "--port", "0", stdout=subprocess.PIPE, text=True)
    url = re.search(r"(http://\S+?)/?$", server.stdout.readline().strip()).group(1)
    start("worker", "--threads", "1", stdout=subprocess.DEVNULL)
    db = sqlite3.connect(tmp_path / "sofno.sqlite3", timeout=10)
    try:
        yield {"url": url, "seeded": seeded.stdout, "start": start, "db": db, "dir": tmp_path}
    finally:
        db.close()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def test_four_silent_tills_are_one_site_incident_and_one_alert(stack):
    db, start = stack["db"], stack["start"]
    seeded = stack["seeded"]
    tokens = dict(
        line.split(" ", 1)[1].rsplit(" ", 1)
        for line in seeded.splitlines()
        if line.startswith("TOKEN ")
    )
    configs = {}
    for name, customer in [(f"till-{n}", "Café Central") for n in range(1, 5)] + [
        ("bar-pc", "Bar Sport")
    ]:
        config = stack["dir"] / f"{name}.json"
        enrolled = subprocess.run(
            [
                *SOFNO,
                "agent",
                "enroll",
                "--server",
                stack["url"],
                "--token",
                tokens[customer],
                "--name",
                name,
                "--config",
                str(config),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert enrolled.returncode == 0, enrolled.stderr
        configs[name] = config

    def run_all():
        return {
            name: start("agent", "run", "--config", str(config), stderr=subprocess.DEVNULL)
            for name, config in configs.items()
        }

    def statuses():
        return dict(db.execute("SELECT name, status FROM monitoring_device").fetchall())

    def incidents():
        return db.execute(
            "SELECT i.kind, c.name, i.status, i.devices_down FROM monitoring_incident i "
            "JOIN directory_customer c ON c.id = i.customer_id WHERE i.merged_into_id IS NULL "
            "ORDER BY i.id"
        ).fetchall()

    def alerts(customer):
        return db.execute(
            "SELECT count(*) FROM events_event WHERE type = 'incident.alert' "
            "AND json_extract(payload, '$.customer_name') = ?",
            (customer,),
        ).fetchone()[0]

    agents = run_all()
    wait_for(lambda: set(statuses().values()) == {"online"}, timeout=60, what="five online")
    time.sleep(3)  # a few check-ins each
    for agent in agents.values():  # every agent stops at once (the line drops)
        agent.terminate()
    for agent in agents.values():
        agent.wait(timeout=10)
    wait_for(lambda: set(statuses().values()) == {"offline"}, timeout=30, what="five offline")
    wait_for(lambda: len(incidents()) == 2, timeout=30, what="two incidents")
    assert incidents() == [
        ("site", "Café Central", "open", 4),
        ("device", "Bar Sport", "open", 1),
    ] or incidents() == [
        ("device", "Bar Sport", "open", 1),
        ("site", "Café Central", "open", 4),
    ]
    wait_for(lambda: alerts("Café Central") and alerts("Bar Sport"), what="the alerts")
    # One page per incident, reaching the admin's bell once each.
    wait_for(
        lambda: db.execute("SELECT count(*) FROM notify_inboxitem").fetchone()[0] >= 2,
        what="the pages",
    )
    time.sleep(3)
    assert (alerts("Café Central"), alerts("Bar Sport")) == (1, 1)
    assert db.execute("SELECT count(*) FROM notify_inboxitem").fetchone()[0] == 2
    titles = {r[0] for r in db.execute("SELECT title FROM notify_inboxitem")}
    assert any("Café Central is down (4 of 4 computers offline)" in t for t in titles)

    run_all()
    wait_for(lambda: set(statuses().values()) == {"online"}, timeout=60, what="recovery")
    wait_for(
        lambda: {row[2] for row in incidents()} == {"resolved"},
        what="both incidents to resolve",
    )
    types = [r[0] for r in db.execute("SELECT type FROM events_event ORDER BY sequence")]
    assert types.count("site.down") == 1 and types.count("site.up") == 1
    assert types.count("site.device_up") == 3  # partial recovery, then the whole site
