"""A real SMTP server (aiosmtpd) on loopback, on an ephemeral port, for tests and bench.

Started in its own thread with its own event loop; every accepted message is kept
(envelope sender, recipients and the parsed message) in ``messages``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# aiosmtpd logs every command at INFO; a test run wants only problems.
logging.getLogger("mail.log").setLevel(logging.ERROR)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    session_id: int

    @property
    def message(self) -> EmailMessage:
        """The parsed message (parsed on demand: parsing is slow, benchmarks skip it)."""
        return message_from_bytes(self.raw, policy=policy.default)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp_server, session, envelope) -> str:
        if self.server.reject_data:
            return self.server.reject_data
        raw = envelope.original_content or envelope.content
        with self.server.lock:
            self.server.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), raw, id(session))
            )
        return "250 OK"


class SmtpServer:
    """``with SmtpServer() as server: ... server.port ... server.messages``."""

    def __init__(self, *, username: str = "", password: str = "", tls: str = "none") -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.username = username
        self.password = password
        self.messages: list[Received] = []
        self.sessions = 0
        self.reject_data = ""
        self.lock = threading.Lock()
        # "starttls": plain, STARTTLS required before MAIL; "tls": TLS from the start.
        self.tls = tls
        self._ssl = _self_signed_context() if tls != "none" else None
        self._protocols: list[SMTP] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        # handled=False: aiosmtpd then answers 535 itself (handled=True sends nothing).
        return AuthResult(success=ok, handled=False)

    def _factory(self) -> SMTP:
        with self.lock:
            self.sessions += 1
        options = {}
        if self.username:
            # LOGIN with an initial response (as smtplib sends it) stalls aiosmtpd 1.4
            # after a refused PLAIN; PLAIN alone is enough to test a login.
            options = {
                "authenticator": self._authenticate,
                "auth_require_tls": False,
                "auth_exclude_mechanism": ["LOGIN"],
            }
        if self.tls == "starttls":
            options.update(tls_context=self._ssl, require_starttls=True)
        protocol = SMTP(_Handler(self), hostname="sofno.test", **options)
        self._protocols.append(protocol)
        return protocol

    def drop_sessions(self) -> None:
        """Close every open session from the server side (a server restart, a timeout)."""

        def close() -> None:
            for protocol in self._protocols:
                if protocol.transport is not None:
                    protocol.transport.close()

        self._loop.call_soon_threadsafe(close)

    def start(self) -> SmtpServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            self._loop.create_server(
                self._factory, self.host, 0, ssl=self._ssl if self.tls == "tls" else None
            ),
            self._loop,
        )
        self._server = future.result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            # Sessions still open (a kept SMTP connection) end with the server.
            current = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _self_signed_context():
    """A server TLS context with a throw-away self-signed certificate for 127.0.0.1."""
    import datetime as dt
    import ipaddress
    import ssl
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as pem:
        pem.write(cert.public_bytes(serialization.Encoding.PEM))
        pem.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pem.name)
    return context


def main() -> None:
    """``python -m sofno.notify.testing.smtp_server``: serve until stdin closes.

    Prints the port on the first line, and the number of messages received and
    sessions opened (``received N sessions M``) when stdin closes. Benchmarks run the
    server in its own process so it does not share the sender's interpreter lock.
    """
    import sys

    server = SmtpServer().start()
    print(server.port, flush=True)
    sys.stdin.read()
    server.stop()
    print(f"received {len(server.messages)} sessions {server.sessions}", flush=True)


if __name__ == "__main__":
    main()
