"""End to end with real processes: ``sofno serve`` and ``sofno worker`` on a file
SQLite database, and the real agent enrolling, checking in, stopping, restarting."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sofno.conftest import sofno_env

pytestmark = pytest.mark.slow

SOFNO = [sys.executable, "-c", "from sofno.cli import main; main()"]
SEED = """
from sofno.core.models import Organization
from sofno.directory.models import Customer
from sofno.monitoring.models import MonitoringDefaults
from sofno.monitoring import actions
from sofno.core.access import Actor
org = Organization.objects.create(slug="e2e", name="E2E")
MonitoringDefaults.objects.create(organization=org, checkin_interval=2, grace=1)
customer = Customer.objects.create(organization=org, name="Bar Sport")
print("TOKEN", actions.rotate_enrollment_token(
    acting_user=Actor(organization=org, role="owner"), customer=customer))
"""


def wait_for(check, timeout=20.0, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def stack(tmp_path: Path, migrated):
    # A clean environment: none of the test run's SOFNO_* settings leak in, so the
    # processes use the embedded defaults (SQLite files in tmp_path).
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
    token = re.search(r"TOKEN (\S+)", seeded.stdout).group(1)
    processes = []

    def start(*args, **kwargs):
        process = subprocess.Popen([*SOFNO, *args], env=env, **kwargs)
        processes.append(process)
        return process

    server = start("serve", "--port", "0", stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    url = re.search(r"(http://\S+?)/?$", line.strip()).group(1)
    start("worker", "--threads", "1", stdout=subprocess.DEVNULL)
    db = sqlite3.connect(tmp_path / "sofno.sqlite3", timeout=10)
    try:
        yield {"url": url, "token": token, "start": start, "db": db, "dir": tmp_path}
    finally:
        db.close()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def test_it_goes_offline_when_the_agent_stops_and_recovers_when_it_returns(stack):
    db, config = stack["db"], stack["dir"] / "agent.json"
    enrolled = subprocess.run(
        [
            *SOFNO,
            "agent",
            "enroll",
            "--server",
            stack["url"],
            "--token",
            stack["token"],
            "--name",
            "till-e2e",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert enrolled.returncode == 0, enrolled.stderr

    def status():
        row = db.execute("SELECT status FROM monitoring_device WHERE name='till-e2e'").fetchone()
        return row[0] if row else None

    def incident():
        return db.execute(
            "SELECT i.status FROM monitoring_incident i JOIN monitoring_device d "
            "ON d.id = i.device_id WHERE d.name='till-e2e'"
        ).fetchall()

    agent = stack["start"]("agent", "run", "--config", str(config), stderr=subprocess.DEVNULL)
    wait_for(lambda: status() == "online", what="first check-in")
    wait_for(
        lambda: db.execute("SELECT count(*) FROM monitoring_checkin").fetchone()[0] >= 2,
        what="a second check-in",
    )
    agent.terminate()
    agent.wait(timeout=10)
    wait_for(lambda: status() == "offline", what="the sweeper to flip the device")
    assert incident() == [("open",)]

    stack["start"]("agent", "run", "--config", str(config), stderr=subprocess.DEVNULL)
    wait_for(lambda: status() == "online", what="recovery")
    wait_for(lambda: incident() == [("resolved",)], what="the incident to resolve")
    types = [r[0] for r in db.execute("SELECT type FROM events_event ORDER BY sequence")]
    assert types.index("device.online") < types.index("device.offline")
    assert types.index("incident.opened") < types.index("incident.resolved")
    assert types.count("device.online") == 2
