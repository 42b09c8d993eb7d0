"""Running remote commands on the agent, only when every check passes.

Before anything runs:
1. the command is well formed (an object with a string payload and signature) and
   the server's Ed25519 signature over the exact payload verifies against the
   public key pinned at enrollment; only then is the payload parsed, and it must
   carry a safe id, this device, an expiry with a timezone, a kind and an argument.
   Anything else is refused, logged and never reported or remembered: its id is
   not trustworthy (reporting it could mark a real command refused);
2. the payload names this device, has not expired and was not run before (the
   agent remembers verified ids until they expire, see ``main.Agent.remember``);
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
import binascii
import datetime as dt
import json
import logging
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
_COMMAND_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")  # goes into the result URL's path
log = logging.getLogger("sofno.agent")


def _refused(command_id: str, why: str) -> tuple[str, dict]:
    return command_id, {"status": "refused", "exit_code": None, "output": why}


def verified_payload(config: dict[str, Any], item: Any) -> tuple[dict | None, str]:
    """``(payload, "")`` for a well-formed command whose signature verifies, else
    ``(None, reason)``. Nothing of an unverified command is believed, not even its id."""
    if not isinstance(item, dict):
        return None, "malformed command: not an object"
    text, signature_text = item.get("payload"), item.get("signature")
    if not isinstance(text, str) or not isinstance(signature_text, str):
        return None, "malformed command: payload and signature must be strings"
    try:
        signature = base64.b64decode(signature_text, validate=True)
        public_key = base64.b64decode(str(config["public_key"]), validate=True)
        message = text.encode()
    except (KeyError, ValueError, binascii.Error):
        return None, "malformed command: undecodable signature, key or payload"
    if not verify(public_key, message, signature):
        return None, "signature does not verify"
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        return None, "malformed command: the payload is not JSON"
    problem = _payload_problem(payload)
    if problem:
        return None, f"malformed command: {problem}"
    return payload, ""


def _payload_problem(payload: Any) -> str:
    if not isinstance(payload, dict):
        return "the payload is not an object"
    if not isinstance(payload.get("id"), str) or not _COMMAND_ID.match(payload["id"]):
        return "no usable id"
    for name in ("device", "kind", "argument", "expires_at"):
        if not isinstance(payload.get(name), str):
            return f"{name} is missing or not text"
    timeout = payload.get("timeout")
    if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool)):
        return "timeout is not a number"
    expires = expiry(payload)
    if expires is None:
        return "expires_at is not a time with a timezone"
    return ""


def expiry(payload: dict) -> dt.datetime | None:
    """The payload's ``expires_at`` as an aware datetime, or ``None``."""
    try:
        expires = dt.datetime.fromisoformat(str(payload.get("expires_at")))
    except ValueError:
        return None
    return expires if expires.tzinfo is not None else None


def check(config: dict[str, Any], item: Any) -> tuple[dict | None, str]:
    """``(payload, "")`` when the command may run, else ``(payload or None, reason)``;
    ``payload`` is ``None`` unless the signature verified."""
    payload, reason = verified_payload(config, item)
    if payload is None:
        return None, reason
    if payload["device"] != config.get("device"):
        return payload, "command is for another device"
    expires = expiry(payload)
    if expires is None or expires <= dt.datetime.now(dt.UTC):
        return payload, "command expired"
    if payload["id"] in (config.get("done") or {}):
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
    if payload is None:
        log.warning("command refused and ignored: %s", reason)
        return None
    if reason:
        log.warning("command %s refused: %s", payload["id"], reason)
        return _refused(payload["id"], reason)
    argv = command_line(config.get("allow") or {}, payload["kind"], payload["argument"])
    assert argv is not None  # check() made sure
    timeout = min(max(1, int(payload.get("timeout") or 60)), 24 * 3600)
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
