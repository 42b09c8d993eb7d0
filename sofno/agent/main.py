"""``sofno agent``: the program on a client computer. Standard library only.

- ``sofno agent enroll --server URL --token T``: registers the computer with its
  customer's enrollment token and keeps the device key in a local config file.
- ``sofno agent run``: checks in on schedule with system facts; when the server is
  unreachable it backs off (with jitter) and keeps retrying; runs the remote
  commands it receives after verifying the server's signature and its own local
  allowlist, and reports each result.

It imports nothing from the server's code, so it can be copied alone (the
``sofno/agent`` directory) onto a Windows or Linux POS machine.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import random
import shutil
import signal
import socket
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sofno.agent import runner

VERSION = "1.0.0"
log = logging.getLogger("sofno.agent")
HTTP_TIMEOUT = 20
MAX_BACKOFF = 300
# Ids remembered by an older agent (a plain list, without expiry) are kept this long:
# longer than any command lives on the server (an hour).
LEGACY_REMEMBER = dt.timedelta(days=1)


def default_config_path() -> Path:
    """Where the config lives unless ``--config`` or ``SOFNO_AGENT_CONFIG`` says."""
    if os.environ.get("SOFNO_AGENT_CONFIG"):
        return Path(os.environ["SOFNO_AGENT_CONFIG"])
    if os.name == "nt":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "SOFNO" / "agent.json"
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/etc/sofno/agent.json")
    return Path.home() / ".config" / "sofno" / "agent.json"


def load_config(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def save_config(path: Path, config: dict[str, Any]) -> None:
    """Write the config readable by its owner only (it holds the device key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2)
    os.replace(temp, path)


def os_family() -> str:
    system = platform.system().lower()
    return {"windows": "windows", "linux": "linux", "darwin": "macos"}.get(system, "other")


def uptime_seconds() -> float | None:
    try:
        if os.name == "nt":
            import ctypes

            return ctypes.windll.kernel32.GetTickCount64() / 1000.0  # type: ignore[attr-defined]
        with open("/proc/uptime", encoding="ascii") as handle:
            return float(handle.read().split()[0])
    except (OSError, ValueError, AttributeError):
        return None


def facts() -> dict[str, Any]:
    """What the agent reports about its computer."""
    root = os.environ.get("SYSTEMDRIVE", "C:") + "\\" if os.name == "nt" else "/"
    found: dict[str, Any] = {
        "hostname": socket.gethostname()[:200],
        "os_version": platform.platform()[:200],
        "agent_version": VERSION,
    }
    uptime = uptime_seconds()
    if uptime is not None:
        found["uptime"] = int(uptime)
    with contextlib.suppress(OSError):
        found["disk_free"] = shutil.disk_usage(root).free
    return found


class ServerError(Exception):
    def __init__(self, status: int, body: dict, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {body.get('message', '')}")
        self.status, self.body, self.retry_after = status, body, retry_after


def call(url: str, body: dict | None, headers: dict[str, str]) -> dict:
    """POST JSON and return the JSON answer; raises ServerError or OSError."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"the server URL must be http(s), got {url!r}")
    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": f"sofno-agent/{VERSION}",
            **headers,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            payload = json.loads(exc.read() or b"{}")
        except ValueError:
            payload = {}
        retry = exc.headers.get("Retry-After") if exc.headers else None
        raise ServerError(
            exc.code, payload, float(retry) if retry and retry.isdigit() else None
        ) from None


def enroll(args: argparse.Namespace) -> int:
    path = Path(args.config) if args.config else default_config_path()
    server = args.server.rstrip("/")
    name = args.name or socket.gethostname()
    try:
        answer = call(
            f"{server}/api/v1/enroll",
            {"token": args.token, "name": name, "os": os_family(), "facts": facts()},
            {},
        )
    except ServerError as exc:
        print(f"enrollment refused: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"cannot reach {server}: {exc}", file=sys.stderr)
        return 1
    config = load_config(path) if path.exists() else {}
    config.update(
        {
            "server": server,
            "device": answer["device"],
            "key": answer["key"],
            "public_key": answer["public_key"],
            "interval": answer["checkin_interval"],
        }
    )
    config.setdefault("allow", runner.EMPTY_ALLOWLIST)
    save_config(path, config)
    print(f"enrolled as device {answer['device']}; config written to {path}")
    return 0


class Agent:
    """The check-in loop (``run``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.config = load_config(path)
        self.stop = threading.Event()
        self.failures = 0

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Device {self.config['key']}"}

    def checkin_once(self) -> float:
        """Check in, run what came back; returns the seconds until the next check-in.

        A malformed answer or command is logged and skipped: nothing the server (or
        whoever answers in its name) sends can stop the loop.
        """
        interval = _seconds(self.config.get("interval"), 300.0)
        try:
            answer = call(f"{self.config['server']}/api/v1/checkin", facts(), self.headers())
        except ServerError as exc:
            if exc.status == 429:
                return exc.retry_after or 60.0
            log.warning("check-in refused: %s", exc)
            return self.backoff(interval)
        except (OSError, ValueError, RecursionError) as exc:
            log.warning("server unreachable or answering nonsense: %s", exc)
            return self.backoff(interval)
        self.failures = 0
        if not isinstance(answer, dict):
            log.warning("check-in answer is not an object: ignored")
            return interval
        commands = answer.get("commands") or []
        if not isinstance(commands, list):
            log.warning("check-in answer's commands are not a list: ignored")
            commands = []
        for item in commands:
            try:
                self.run_command(item)
            except Exception:  # one bad command must not stop the agent
                log.exception("a command could not be handled")
        return _seconds(answer.get("next_checkin_in") or interval, interval)

    def backoff(self, interval: float) -> float:
        """1, 2, 4, ... seconds (with jitter), never longer than the interval or 5 min."""
        self.failures += 1
        ceiling = min(max(interval, 1.0), MAX_BACKOFF)
        delay = min(ceiling, 2 ** (self.failures - 1))
        return delay * random.uniform(0.8, 1.0)

    def run_command(self, item: Any) -> None:
        """Check and run one command; report and remember it only if it verified."""
        result = runner.execute(self.config, item)
        if result is None:
            return  # unverified or malformed: refused and logged by the runner
        command_id, outcome = result
        self.remember(command_id, runner.expiry(json.loads(item["payload"])))
        try:
            call(
                f"{self.config['server']}/api/v1/agent/commands/{command_id}/result",
                outcome,
                self.headers(),
            )
        except (ServerError, OSError, ValueError) as exc:
            log.warning("could not report command %s: %s", command_id, exc)

    def remember(self, command_id: str, expires_at: dt.datetime | None) -> None:
        """Keep ``command_id`` (a verified command's) until it expires.

        Not by count: a flood of ids cannot push a real one out, and only verified
        ids get here. An expired command is refused for its expiry anyway, so
        forgetting it then is safe.
        """
        now = dt.datetime.now(dt.UTC)
        done = remembered(self.config.get("done"), now)
        done[command_id] = (expires_at or now + LEGACY_REMEMBER).isoformat()
        self.config["done"] = done
        save_config(self.path, self.config)

    def run(self, once: bool = False) -> int:
        while not self.stop.is_set():
            try:
                wait = self.checkin_once()
            except Exception:  # a bug of ours must not stop the agent either
                log.exception("check-in failed")
                wait = self.backoff(_seconds(self.config.get("interval"), 300.0))
            if once:
                return 0
            self.stop.wait(wait)
        return 0


def remembered(done: Any, now: dt.datetime) -> dict[str, str]:
    """The remembered command ids that have not expired, as ``{id: expires_at}``
    (an older agent's plain list is read as ids to keep for ``LEGACY_REMEMBER``)."""
    if isinstance(done, list):
        later = (now + LEGACY_REMEMBER).isoformat()
        return {str(command_id): later for command_id in done}
    kept = {}
    for command_id, expires_at in (done or {}).items() if isinstance(done, dict) else ():
        try:
            when = dt.datetime.fromisoformat(str(expires_at))
        except ValueError:
            continue
        if when.tzinfo is not None and when > now:
            kept[str(command_id)] = when.isoformat()
    return kept


def _seconds(value: Any, default: float) -> float:
    """A wait from the server or config: a number of seconds within 1 s and a day."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    if seconds != seconds:  # NaN
        return default
    return min(max(seconds, 1.0), 86400.0)


def run(args: argparse.Namespace) -> int:
    path = Path(args.config) if args.config else default_config_path()
    if not path.exists():
        print(f"no config at {path}; run 'sofno agent enroll' first", file=sys.stderr)
        return 2
    agent = Agent(path)
    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda *_: agent.stop.set())
    log.info("agent %s checking in to %s", VERSION, agent.config["server"])
    return agent.run(once=args.once)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="sofno agent", description=__doc__.split("\n")[0])
    sub = top.add_subparsers(dest="command", required=True)
    enroll_p = sub.add_parser("enroll", help="register this computer")
    enroll_p.add_argument("--server", required=True, help="e.g. https://sofno.example.com")
    enroll_p.add_argument("--token", required=True, help="the customer's enrollment token")
    enroll_p.add_argument("--name", help="device name (default: host name)")
    enroll_p.add_argument("--config", help="config file path")
    run_p = sub.add_parser("run", help="check in on schedule and run commands")
    run_p.add_argument("--config", help="config file path")
    run_p.add_argument("--once", action="store_true", help="check in once and exit")
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``sofno agent``."""
    logging.basicConfig(
        level=os.environ.get("SOFNO_AGENT_LOG", "INFO"),
        format="%(asctime)s %(levelname)s %(message)s",
    )
    args = parser().parse_args(argv)
    return {"enroll": enroll, "run": run}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
