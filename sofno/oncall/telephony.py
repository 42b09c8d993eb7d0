"""The phone queue behind a small provider interface, and Asterisk over AMI.

The Asterisk Manager Interface is a line protocol on TCP: the server greets with
``Asterisk Call Manager/<version>``; each message is ``Key: Value`` lines ended by a
blank line; a client action carries an ``ActionID`` that its response (and any
events it triggers, such as ``QueueMember`` after ``QueueStatus``) echo back.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from typing import Protocol

from sofno.oncall.conf import AmiSettings, ami_settings


class TelephonyError(Exception):
    """The phone system refused an action or could not be reached."""


@dataclass(frozen=True)
class Member:
    """A phone-queue member: its extension, and whether it is paused."""

    extension: str
    paused: bool = False
    name: str = ""


class QueueProvider(Protocol):
    """What SOFNO needs from a phone system's queue."""

    def members(self) -> list[Member]: ...

    def add(self, extension: str, name: str = "") -> None: ...

    def remove(self, extension: str) -> None: ...

    def pause(self, extension: str, paused: bool, reason: str = "") -> None: ...


def set_members(provider: QueueProvider, wanted: dict[str, str]) -> dict[str, list[str]]:
    """Make the queue hold exactly ``wanted`` (extension -> name); report changes.

    Members already in the queue stay (a paused one stays paused), so a turn change
    does not disturb who is on a call.
    """
    current = {m.extension for m in provider.members()}
    removed = sorted(current - set(wanted))
    added = sorted(set(wanted) - current)
    for extension in removed:
        provider.remove(extension)
    for extension in added:
        provider.add(extension, wanted[extension])
    return {"added": added, "removed": removed}


class AsteriskQueue:
    """A queue on Asterisk, over one AMI connection per operation batch."""

    def __init__(self, settings: AmiSettings, queue: str | None = None) -> None:
        self.settings = settings
        self.queue = queue or settings.queue
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._next_id = 0

    # -- connection

    def __enter__(self) -> AsteriskQueue:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        s = self.settings
        try:
            self._sock = socket.create_connection((s.host, s.port), timeout=s.timeout)
        except OSError as exc:
            raise TelephonyError(f"cannot reach the AMI at {s.host}:{s.port}: {exc}") from None
        banner = self._read_line()
        if not banner.startswith("Asterisk Call Manager"):
            self.close()
            raise TelephonyError(f"not an Asterisk Manager Interface: {banner!r}")
        reply = self.action("Login", Username=s.username, Secret=s.secret)
        if reply.get("Response") != "Success":
            self.close()
            raise TelephonyError(f"AMI login refused: {reply.get('Message', 'no reason given')}")

    def close(self) -> None:
        if self._sock is None:
            return
        # Say goodbye and wait for it, so the server ends the session cleanly; it
        # may have gone already, which is fine.
        with contextlib.suppress(OSError, TelephonyError):
            self.action("Logoff")
        self._sock.close()
        self._sock = None
        self._buffer = b""

    def _ensure(self) -> None:
        if self._sock is None:
            self.connect()

    # -- protocol

    def _read_line(self) -> str:
        while b"\r\n" not in self._buffer:
            self._fill()
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def _fill(self) -> None:
        assert self._sock is not None
        try:
            chunk = self._sock.recv(65536)
        except TimeoutError:
            raise TelephonyError("the AMI did not answer in time") from None
        if not chunk:
            raise TelephonyError("the AMI closed the connection")
        self._buffer += chunk

    def _read_message(self) -> dict[str, str]:
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        raw, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        message: dict[str, str] = {}
        for line in raw.decode("utf-8", "replace").split("\r\n"):
            key, sep, value = line.partition(":")
            if sep:
                message.setdefault(key.strip(), value.strip())
        return message

    def _send(self, name: str, fields: dict[str, str]) -> str:
        assert self._sock is not None
        self._next_id += 1
        action_id = f"sofno-{self._next_id}"
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        for key, value in fields.items():
            text = str(value)
            if "\r" in text or "\n" in text:
                raise TelephonyError(f"{key} may not contain line breaks")
            lines.append(f"{key}: {text}")
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return action_id

    def action(self, name: str, **fields: str) -> dict[str, str]:
        """Send one action and return its response, skipping unrelated events."""
        action_id = self._send(name, fields)
        while True:
            message = self._read_message()
            if "Response" in message and message.get("ActionID") == action_id:
                return message

    def _checked(self, name: str, **fields: str) -> dict[str, str]:
        self._ensure()
        reply = self.action(name, **fields)
        if reply.get("Response") != "Success":
            raise TelephonyError(f"{name} failed: {reply.get('Message', 'no reason given')}")
        return reply

    # -- the provider interface

    def interface(self, extension: str) -> str:
        return self.settings.interface.format(extension=extension)

    def extension_of(self, interface: str) -> str:
        prefix, _, suffix = self.settings.interface.partition("{extension}")
        if interface.startswith(prefix) and interface.endswith(suffix):
            return interface[len(prefix) : len(interface) - len(suffix) or None]
        return interface

    def members(self) -> list[Member]:
        """The queue's members from ``QueueStatus`` (its ``QueueMember`` events)."""
        self._ensure()
        action_id = self._send("QueueStatus", {"Queue": self.queue})
        found: list[Member] = []
        while True:
            message = self._read_message()
            if message.get("ActionID") != action_id:
                continue
            if message.get("Response") == "Error":
                raise TelephonyError(f"QueueStatus failed: {message.get('Message', '')}")
            event = message.get("Event")
            if event == "QueueMember" and message.get("Queue", self.queue) == self.queue:
                interface = message.get("Interface") or message.get("Location", "")
                found.append(
                    Member(
                        extension=self.extension_of(interface),
                        paused=message.get("Paused") in ("1", "true", "True"),
                        name=message.get("Name") or message.get("MemberName", ""),
                    )
                )
            elif event == "QueueStatusComplete":
                return found

    def add(self, extension: str, name: str = "") -> None:
        fields = {"Queue": self.queue, "Interface": self.interface(extension), "Penalty": "0"}
        if name:
            fields["MemberName"] = name
        self._checked("QueueAdd", **fields)

    def remove(self, extension: str) -> None:
        self._checked("QueueRemove", Queue=self.queue, Interface=self.interface(extension))

    def pause(self, extension: str, paused: bool, reason: str = "") -> None:
        fields = {
            "Queue": self.queue,
            "Interface": self.interface(extension),
            "Paused": "true" if paused else "false",
        }
        if reason:
            fields["Reason"] = reason
        self._checked("QueuePause", **fields)


def provider_for(queue_name: str = "") -> AsteriskQueue | None:
    """The configured phone queue, or ``None`` when no telephony is configured."""
    settings = ami_settings()
    if settings is None:
        return None
    return AsteriskQueue(settings, queue_name or None)
