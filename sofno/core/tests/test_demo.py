"""``sofno demo`` as a new user runs it: a real process, real HTTP, Ctrl-C, run again."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from sofno.conftest import SOFNO, sofno_env, unexpected_tracebacks, wait_for

pytestmark = pytest.mark.slow


class Demo:
    """A running ``sofno demo`` and what it printed."""

    def __init__(self, data: Path, *options: str) -> None:
        self.process = subprocess.Popen(
            [SOFNO, "demo", "--data", str(data), "--port", "0", *options],
            env=sofno_env(data),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, sink in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=lambda s=stream, k=sink: k.extend(s), daemon=True).start()
        wait_for(self._ready, timeout=90, what="the demo to print its URL")
        text = "".join(self.out)
        self.url = re.search(r"web:\s+(http://\S+)/", text)[1]
        self.username, self.password = re.search(r"login:\s+(\S+) / (\S+)", text).groups()
        self.api_key = re.search(r"API key:\s+(\S+)", text)[1]

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"demo exited early:\n{''.join(self.out)}\n{''.join(self.err)}")
        return "Press Ctrl-C to stop." in "".join(self.out)

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=20)


def _log_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    page = client.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    return client.post(
        "/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
    )


def _customer_names(demo: Demo) -> list[str]:
    answer = httpx.get(
        f"{demo.url}/api/v1/customers",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {demo.api_key}"},
    )
    assert answer.status_code == 200, answer.text
    return sorted(item["name"] for item in answer.json()["items"])


def test_it_runs_the_demo_stops_on_ctrl_c_and_reuses_its_data(tmp_path):
    data = tmp_path / "demo-data"
    demo = Demo(data)
    try:
        with httpx.Client(base_url=demo.url, timeout=10) as client:
            home = client.get("/")
            assert home.status_code == 302
            assert home.headers["location"].startswith("/login/")

            signed_in = _log_in(client, demo.username, demo.password)
            assert signed_in.status_code == 302, signed_in.text
            dashboard = client.get("/")
            assert dashboard.status_code == 200
            assert "Demo IT Support" in dashboard.text

            admin = client.get("/admin/")
            assert admin.status_code == 200  # not a redirect to the admin's login page
            assert 'id="logout-form"' in admin.text

            docs = client.get("/api/docs")
            assert docs.status_code == 200
            assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', docs.text)
            assert assets and all(a.startswith("/static/ninja/") for a in assets), assets
            for asset in assets:
                assert client.get(asset).status_code == 200, asset

        first_names = _customer_names(demo)
        assert "Trattoria Da Mario" in first_names
        assert httpx.get(f"{demo.url}/api/v1/customers").status_code == 401
    finally:
        code = demo.interrupt()
    assert code in (0, 130), "".join(demo.err)
    assert unexpected_tracebacks("".join(demo.err)) == []
    assert "KeyboardInterrupt" not in "".join(demo.err)

    again = Demo(data)
    try:
        assert (again.username, again.password, again.api_key) == (
            demo.username,
            demo.password,
            demo.api_key,
        )
        assert _customer_names(again) == first_names  # no duplicate sample data
        with httpx.Client(base_url=again.url, timeout=10) as client:
            assert _log_in(client, again.username, again.password).status_code == 302
    finally:
        assert again.interrupt() in (0, 130)
    assert unexpected_tracebacks("".join(again.err)) == []


def _statuses(demo: Demo) -> dict[str, str]:
    answer = httpx.get(
        f"{demo.url}/api/v1/devices",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {demo.api_key}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {item["name"]: item["status"] for item in answer.json()["items"]}


def test_it_keeps_the_sample_devices_online_but_the_flaky_one(tmp_path):
    """The demo's simulated agents keep every sample device online for many check-in
    intervals, while the flaky one drops out and comes back (incident flow to watch).

    Time is compressed through the real API: a 10 s interval with 5 s grace, and the
    flaky one silent from 20 s to 38 s in. It is last heard of between 10 s and 20 s,
    so it is offline by 35 s, and back when it checks in again at 38 s: the watch
    ends then, some forty seconds, four intervals (twenty minutes at the default
    300 s), or at 75 s if that never happens."""
    data = tmp_path / "demo-data"
    first = Demo(data, "--no-agents")
    try:
        answer = httpx.put(
            f"{first.url}/api/v1/monitoring/defaults",
            json={"checkin_interval": 10, "grace": 5, "flap_window": 0},
            headers={"Authorization": f"Bearer {first.api_key}"},
        )
        assert answer.status_code == 200, answer.text
    finally:
        assert first.interrupt() in (0, 130)

    demo = Demo(data, "--dropout-every", "20", "--dropout-for", "18")
    try:
        assert "Simulated agents check in" in "".join(demo.out)
        started = time.monotonic()
        seen: dict[str, set[str]] = {}
        flaky = None
        flaky_went: list[str] = []  # the flaky one's statuses, each change once
        while time.monotonic() - started < 75:
            statuses = _statuses(demo)
            flaky = flaky or min(statuses)  # the first device by name drops out
            if time.monotonic() - started > 3:
                for name, status in statuses.items():
                    seen.setdefault(name, set()).add(status)
                if flaky_went[-1:] != [statuses[flaky]]:
                    flaky_went.append(statuses[flaky])
            if flaky_went[-2:] == ["offline", "online"]:
                break
            time.sleep(1)
        steady = {name: s for name, s in seen.items() if name != flaky}
        assert steady and all(s == {"online"} for s in steady.values()), steady
        assert seen[flaky] == {"online", "offline"}, seen[flaky]
    finally:
        assert demo.interrupt() in (0, 130)
    assert unexpected_tracebacks("".join(demo.err)) == []
