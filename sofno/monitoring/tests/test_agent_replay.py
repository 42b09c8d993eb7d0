"""The agent against a hostile check-in answer: no replay, no crash.

A real ``Agent`` checks in over HTTP to a loopback server that answers what a test
scripts (what a man in the middle, or a broken proxy, could send) and records the
results the agent reports. Commands are signed by the real server key.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sofno.agent import runner
from sofno.agent.main import Agent, main, save_config
from sofno.monitoring import checkin, signing
from sofno.monitoring.models import CommandKind, CommandTemplate


class Answering:
    """A check-in endpoint answering scripted bodies; result posts are recorded."""

    def __init__(self) -> None:
        self.answers: list[bytes] = []
        self.results: dict[str, dict] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.path.endswith("/result"):
                    outer.results[self.path.split("/")[-2]] = json.loads(body)
                    reply = b"{}"
                else:
                    reply = outer.answers.pop(0) if outer.answers else b'{"commands": []}'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def answer(self, body) -> None:
        self.answers.append(body if isinstance(body, bytes) else json.dumps(body).encode())


@pytest.fixture
def server():
    answering = Answering()
    yield answering
    answering.httpd.shutdown()
    answering.httpd.server_close()


@pytest.fixture
def signed(cast, api_client, make_device):
    """A real command for a real device, signed by the server: ``(device, item)``."""
    device, key = make_device()
    template = CommandTemplate.objects.create(
        organization=cast.org, name="Cleanup", kind=CommandKind.RUN_SCRIPT, argument="cleanup"
    )
    api_client(cast.key).post(
        f"/devices/{device.public_id}/commands", {"template": str(template.public_id)}
    )
    (item,) = checkin.handle(key, None, None).body["commands"]
    return device, item


@pytest.fixture
def agent(signed, server, tmp_path):
    device, _item = signed
    marker = tmp_path / "ran.txt"
    script = tmp_path / "cleanup.py"
    script.write_text(f"open({str(marker)!r}, 'a').write('ran\\n')\n")
    path = tmp_path / "agent.json"
    save_config(
        path,
        {
            "server": server.url,
            "device": str(device.public_id),
            "key": "dev_x",
            "public_key": signing.public_key_b64(),
            "interval": 60,
            "allow": {
                **runner.EMPTY_ALLOWLIST,
                "run_script": {"cleanup": [sys.executable, str(script)]},
            },
        },
    )
    found = Agent(path)
    found.marker = marker
    return found


def unsigned() -> dict:
    """A command nobody signed (its signature is 64 bytes of nothing)."""
    payload = {"id": uuid.uuid4().hex, "device": "x", "kind": "reboot", "argument": ""}
    payload["expires_at"] = "2099-01-01T00:00:00+00:00"
    return {"payload": json.dumps(payload), "signature": base64.b64encode(b"x" * 64).decode()}


def test_a_flood_of_unsigned_commands_does_not_replay_an_old_signed_one(agent, server, signed):
    _device, item = signed
    command_id = json.loads(item["payload"])["id"]
    server.answer({"commands": [item]})
    agent.checkin_once()
    assert agent.marker.read_text() == "ran\n"
    assert server.results[command_id]["status"] == "succeeded"

    server.answer({"commands": [unsigned() for _ in range(501)] + [item]})
    agent.checkin_once()
    assert agent.marker.read_text() == "ran\n"  # not run a second time
    assert server.results[command_id]["status"] == "refused"
    assert "already run" in server.results[command_id]["output"]
    assert len(server.results) == 1  # nothing reported for ids nobody signed
    # Only the verified id is remembered, until its expiry.
    reloaded = json.loads(agent.path.read_text())
    assert list(reloaded["done"]) == [command_id]
    assert reloaded["done"][command_id] == json.loads(item["payload"])["expires_at"]


MALFORMED = [
    {"payload": 12345},
    {"payload": 12345, "signature": "AAAA"},
    {"payload": "not json at all", "signature": "AAAA"},
    {"payload": "\ud800", "signature": "AAAA"},
    {"payload": "{}"},
    {"signature": "AAAA"},
    {},
    "a string",
    12345,
    None,
    [1, 2],
]


def test_malformed_commands_are_refused_and_the_agent_goes_on(agent, server, signed, caplog):
    _device, item = signed
    server.answer({"commands": [*MALFORMED, item]})
    caplog.set_level("WARNING", logger="sofno.agent")
    wait = agent.checkin_once()
    assert wait == 60
    assert agent.marker.read_text() == "ran\n"  # the good command after them still ran
    assert list(server.results) == [json.loads(item["payload"])["id"]]
    assert caplog.text.count("refused and ignored") == len(MALFORMED)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 30000 + b"]" * 30000,
        b"not json",
        b'"a string"',
        b"12345",
        b'{"commands": "abc"}',
        b'{"commands": {"payload": 12345}}',
        b'{"commands": [], "next_checkin_in": "soon"}',
    ],
    ids=["nested", "garbage", "string", "number", "string commands", "object commands", "wait"],
)
def test_a_nonsense_answer_does_not_stop_sofno_agent_run(agent, server, body):
    server.answer(body)
    assert main(["run", "--once", "--config", str(agent.path)]) == 0
    assert server.results == {}


def test_it_forgets_remembered_ids_once_they_expired(agent):
    import datetime as dt

    agent.config["done"] = ["legacy-id"]  # an older agent's list
    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    agent.remember("old", past)
    agent.remember("new", dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
    done = json.loads(agent.path.read_text())["done"]
    assert set(done) == {"legacy-id", "new"}
