"""Running remote commands on the agent, only when every check passes.

Before anything runs:
1. the server's Ed25519 signature over the exact payload verifies against the
   public key pinned at enrollment;
2. the payload names this device, has not expired and was not run before;
3. the kind and argument are in this computer's own allowlist (the ``allow``
   section of the config file, edited by whoever installs the agent):

   {"restart_service": ["spooler"], "reboot": false,
    "collect_logs": ["system"], "run_script": {"cleanup": ["/opt/pos/cleanup.sh"]}}

Scripts are named by the server and resolved here to a local command line, so the
server can never choose what program runs. Output is size-capped and the command
is killed at its timeout.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import platform
import re
import subprocess
from typing import Any

from sofno.agent.ed25519 import verify

EMPTY_ALLOWLIST: dict[str, Any] = {
    "restart_service": [],
    "reboot": False,
    "collect_logs": [],
    "run_script": {},
}
MAX_OUTPUT = 64 * 1024
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,200}$")


def _refused(command_id: str, why: str) -> tuple[str, dict]:
    return command_id, {"status": "refused", "exit_code": None, "output": why}


def check(config: dict[str, Any], item: dict[str, Any]) -> tuple[dict | None, str]:
    """``(payload, "")`` when the command may run, else ``(payload or None, reason)``."""
    try:
        text = item["payload"]
        signature = base64.b64decode(item["signature"], validate=True)
        public_key = base64.b64decode(config["public_key"], validate=True)
    except (KeyError, TypeError, ValueError):
        return None, "malformed command"
    if not verify(public_key, text.encode(), signature):
        try:
            return json.loads(text), "signature does not verify"
        except ValueError:
            return None, "signature does not verify"
    payload = json.loads(text)
    if payload.get("device") != config.get("device"):
        return payload, "command is for another device"
    expires = dt.datetime.fromisoformat(payload["expires_at"])
    if expires <= dt.datetime.now(dt.UTC):
        return payload, "command expired"
    if payload["id"] in config.get("done", []):
        return payload, "command already run"
    if command_line(config.get("allow") or {}, payload["kind"], payload["argument"]) is None:
        return (
            payload,
            f"{payload['kind']} {payload['argument']!r} is not in this agent's allowlist",
        )
    return payload, ""


def command_line(allow: dict[str, Any], kind: str, argument: str) -> list[str] | None:
    """The local command line for an allowlisted command, or ``None``."""
    system = platform.system().lower()
    if argument and not _NAME.match(argument):
        return None
    if kind == "restart_service" and argument in (allow.get("restart_service") or []):
        if system == "windows":
            script = f"Restart-Service -Force -Name '{argument}'"
            return ["powershell", "-NoProfile", "-Command", script]
        if system == "darwin":
            return ["launchctl", "kickstart", "-k", f"system/{argument}"]
        return ["systemctl", "restart", argument]
    if kind == "reboot" and allow.get("reboot") is True:
        return ["shutdown", "/r", "/t", "60"] if system == "windows" else ["shutdown", "-r", "+1"]
    if kind == "collect_logs" and argument in (allow.get("collect_logs") or []):
        if system == "windows":
            return ["wevtutil", "qe", argument or "System", "/c:200", "/rd:true", "/f:text"]
        if system == "darwin":
            return ["log", "show", "--last", "1h"]
        unit = [] if argument in ("", "system") else ["-u", argument]
        return ["journalctl", "-n", "500", "--no-pager", *unit]
    if kind == "run_script":
        scripts = allow.get("run_script") or {}
        found = scripts.get(argument)
        if isinstance(found, str):
            return [found]
        if isinstance(found, list) and found and all(isinstance(p, str) for p in found):
            return list(found)
    return None


def execute(config: dict[str, Any], item: dict[str, Any]) -> tuple[str, dict] | None:
    """Check and run one command; ``(command id, result)`` to report, or ``None``
    when nothing trustworthy identifies it."""
    payload, reason = check(config, item)
    if payload is None or "id" not in payload:
        return None
    if reason:
        return _refused(payload["id"], reason)
    argv = command_line(config["allow"], payload["kind"], payload["argument"])
    assert argv is not None  # check() made sure
    timeout = max(1, int(payload.get("timeout") or 60))
    try:
        completed = subprocess.run(
            argv,
            capture_output=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "SOFNO_COMMAND_ID": payload["id"]},
        )
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"") + (exc.stderr or b"")
        return payload["id"], {"status": "timed_out", "exit_code": None, "output": _text(output)}
    except OSError as exc:
        return payload["id"], {"status": "failed", "exit_code": None, "output": str(exc)}
    output = completed.stdout + completed.stderr
    status = "succeeded" if completed.returncode == 0 else "failed"
    return payload["id"], {
        "status": status,
        "exit_code": completed.returncode,
        "output": _text(output),
    }


def _text(output: bytes) -> str:
    if len(output) > MAX_OUTPUT:
        output = output[:MAX_OUTPUT] + b"\n[output truncated]"
    return output.decode("utf-8", errors="replace")
