"""A small Asterisk Manager Interface server for tests: it speaks the protocol
(banner, ``Key: Value`` messages ended by a blank line, ``ActionID`` echoed, login
success or failure, queue actions and ``QueueStatus`` events) and records every
action it is told, keeping queue members as Asterisk would."""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class AmiState:
    username: str = "sofno"
    secret: str = "s3cret"
    queues: dict[str, dict[str, dict]] = field(default_factory=dict)
    actions: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def told(self, name: str) -> list[dict[str, str]]:
        return [a for a in self.actions if a.get("Action") == name]


class _Handler(socketserver.StreamRequestHandler):
    def send(self, **fields: str) -> None:
        text = "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
        self.wfile.write(text.encode())

    def handle(self) -> None:
        state: AmiState = self.server.state  # type: ignore[attr-defined]
        self.wfile.write(b"Asterisk Call Manager/9.0.0\r\n")
        # An unsolicited event, as a real server sends after login.
        logged_in = False
        while True:
            message: dict[str, str] = {}
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                text = line.decode().rstrip("\r\n")
                if not text:
                    break
                key, _, value = text.partition(":")
                message[key.strip()] = value.strip()
            if not message:
                continue
            with state.lock:
                state.actions.append(message)
            action = message.get("Action", "")
            aid = {"ActionID": message["ActionID"]} if "ActionID" in message else {}
            if action == "Login":
                if message.get("Username") == state.username and (
                    message.get("Secret") == state.secret
                ):
                    logged_in = True
                    self.send(Response="Success", **aid, Message="Authentication accepted")
                    self.send(Event="FullyBooted", Privilege="system,all", Status="Fully Booted")
                else:
                    self.send(Response="Error", **aid, Message="Authentication failed")
                continue
            if action == "Logoff":
                self.send(Response="Goodbye", **aid, Message="Thanks for all the fish.")
                return
            if not logged_in:
                self.send(Response="Error", **aid, Message="Permission denied")
                continue
            self.queue_action(state, action, message, aid)

    def queue_action(self, state: AmiState, action: str, message: dict, aid: dict) -> None:
        name = message.get("Queue", "")
        with state.lock:
            members = state.queues.get(name)
        if members is None:
            self.send(Response="Error", **aid, Message=f"Unable to find queue {name!r}")
            return
        interface = message.get("Interface", "")
        if action == "QueueAdd":
            if interface in members:
                self.send(Response="Error", **aid, Message="Unable to add interface: Already there")
                return
            paused = message.get("Paused", "false") in ("true", "1")
            members[interface] = {"paused": paused, "name": message.get("MemberName", "")}
            self.send(Response="Success", **aid, Message="Added interface to queue")
        elif action == "QueueRemove":
            if members.pop(interface, None) is None:
                self.send(Response="Error", **aid, Message="Unable to remove interface: Not there")
                return
            self.send(Response="Success", **aid, Message="Removed interface from queue")
        elif action == "QueuePause":
            if interface not in members:
                self.send(Response="Error", **aid, Message="Interface not found")
                return
            members[interface]["paused"] = message.get("Paused") in ("true", "1")
            self.send(Response="Success", **aid, Message="Interface paused successfully")
        elif action == "QueueStatus":
            self.send(
                Response="Success", **aid, EventList="start", Message="Queue status will follow"
            )
            self.send(Event="QueueParams", Queue=name, Max="0", Calls="0", **aid)
            for iface, info in members.items():
                self.send(
                    Event="QueueMember",
                    Queue=name,
                    Name=info["name"] or iface,
                    Location=iface,
                    Interface=iface,
                    Membership="dynamic",
                    Penalty="0",
                    Status="1",
                    Paused="1" if info["paused"] else "0",
                    **aid,
                )
            self.send(Event="QueueStatusComplete", EventList="Complete", ListItems="1", **aid)
        else:
            self.send(Response="Error", **aid, Message="Invalid/unknown command")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class AmiServer:
    """``with AmiServer(queues={"support": {}}) as ami: ... ami.port ... ami.state``."""

    def __init__(self, queues: dict[str, dict] | None = None) -> None:
        self.state = AmiState(queues=queues if queues is not None else {"support": {}})
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.state = self.state  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> AmiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def members(self, queue: str = "support") -> dict[str, dict]:
        return dict(self.state.queues[queue])
