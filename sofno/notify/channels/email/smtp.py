"""Sending email over SMTP with connections kept open and reused.

One SMTP session per (thread, profile settings): opening a TLS session and logging in
costs more than sending a message, so a send loop that sends hundreds of messages
does it once. A connection the server closed is reopened once, transparently.

Every connection goes through the outbound guard (:func:`sofno.core.guard.open_connection`):
the profile's host is resolved, each address checked, and smtplib connects to the
checked address while TLS (SMTPS or STARTTLS) still verifies the certificate against
the host name. A refused address is a permanent failure.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate, make_msgid

from sofno.core.guard import AddressRefused, open_connection

# A connection unused this long is closed rather than reused: servers drop idle
# sessions (Postfix after 300 s), and a dead socket costs a failed send.
IDLE_SECONDS = 60.0
# smtplib fixes line endings of str messages only; bytes must already use CRLF.
SMTP_POLICY = compat32.clone(linesep="\r\n")


class TlsMode:
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send: one SMTP profile, with its password decrypted."""

    host: str
    port: int = 25
    tls_mode: str = TlsMode.NONE
    username: str = ""
    password: str = ""
    from_name: str = ""
    from_address: str = ""
    timeout: float = 15.0
    # Tests point at a loopback server with a self-signed certificate.
    verify_certificates: bool = True

    @property
    def key(self) -> tuple:
        return (self.host, self.port, self.tls_mode, self.username, self.password)


@dataclass
class Email:
    """One message: HTML and/or plain text, several To, cc and bcc recipients."""

    subject: str
    text: str = ""
    html: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    message_id: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def recipients(self) -> list[str]:
        seen: dict[str, None] = {}
        for address in (*self.to, *self.cc, *self.bcc):
            seen.setdefault(address.strip(), None)
        return [a for a in seen if a]


def build_message(email: Email, smtp: SmtpSettings) -> Message:
    """The MIME message: multipart/alternative when there is HTML; bcc never appears.

    Built with the ``compat32`` MIME classes: the ``EmailMessage`` API with the
    default policy is five times slower, which alone capped sending below 400/s.
    """
    text = MIMEText(email.text or " ", "plain", "utf-8")
    if email.html:
        message: Message = MIMEMultipart("alternative")
        message.attach(text)
        message.attach(MIMEText(email.html, "html", "utf-8"))
    else:
        message = text
    message["Subject"] = (
        Header(email.subject, "utf-8").encode() if not email.subject.isascii() else email.subject
    )
    message["From"] = (
        formataddr((str(Header(smtp.from_name, "utf-8")), smtp.from_address))
        if smtp.from_name
        else smtp.from_address
    )
    if email.to:
        message["To"] = ", ".join(email.to)
    if email.cc:
        message["Cc"] = ", ".join(email.cc)
    message["Date"] = formatdate(localtime=False)
    domain = smtp.from_address.rpartition("@")[2] or None
    message["Message-ID"] = email.message_id or make_msgid(domain=domain)
    for name, value in email.headers.items():
        message[name] = value
    return message


class SendError(Exception):
    """A failed send; ``permanent`` when retrying cannot help (refused recipients)."""

    def __init__(self, message: str, *, permanent: bool = False, code: int | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.code = code


class GuardedSMTP(smtplib.SMTP):
    """``smtplib.SMTP`` whose socket comes from the guard (``_host`` stays the name)."""

    def _get_socket(self, host, port, timeout):
        return open_connection(host, port, timeout, self.source_address)


class GuardedSMTPSSL(smtplib.SMTP_SSL):
    """``smtplib.SMTP_SSL`` connected through the guard, TLS checked against the name."""

    def _get_socket(self, host, port, timeout):
        sock = open_connection(host, port, timeout, self.source_address)
        return self.context.wrap_socket(sock, server_hostname=self._host)


@dataclass
class _Session:
    client: smtplib.SMTP
    last_used: float


class SmtpPool:
    """Open SMTP sessions, one per profile settings, for the current thread."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _sessions(self) -> dict[tuple, _Session]:
        if not hasattr(self._local, "sessions"):
            self._local.sessions = {}
        return self._local.sessions

    def _open(self, smtp: SmtpSettings) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if not smtp.verify_certificates:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if smtp.tls_mode == TlsMode.TLS:
            client: smtplib.SMTP = GuardedSMTPSSL(
                smtp.host, smtp.port, timeout=smtp.timeout, context=context
            )
        else:
            client = GuardedSMTP(smtp.host, smtp.port, timeout=smtp.timeout)
            if smtp.tls_mode == TlsMode.STARTTLS:
                client.starttls(context=context)
        if smtp.username:
            client.login(smtp.username, smtp.password)
        return client

    def _session(self, smtp: SmtpSettings) -> smtplib.SMTP:
        sessions = self._sessions()
        session = sessions.get(smtp.key)
        now = time.monotonic()
        if session is not None and now - session.last_used > IDLE_SECONDS:
            self._drop(smtp)
            session = None
        if session is None:
            session = _Session(self._open(smtp), now)
            sessions[smtp.key] = session
        session.last_used = now
        return session.client

    def _drop(self, smtp: SmtpSettings) -> None:
        session = self._sessions().pop(smtp.key, None)
        if session is not None:
            try:
                session.client.quit()
            except (smtplib.SMTPException, OSError):
                session.client.close()

    def send(self, smtp: SmtpSettings, email: Email) -> str:
        """Send ``email`` through ``smtp``; returns its Message-ID, raises SendError."""
        recipients = email.recipients()
        if not recipients:
            raise SendError("no recipient address", permanent=True)
        message = build_message(email, smtp)
        payload = message.as_bytes(policy=SMTP_POLICY)
        for reused in (True, False):
            try:
                client = self._session(smtp)
                refused = client.sendmail(smtp.from_address, recipients, payload)
            except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                self._drop(smtp)
                if reused:
                    continue  # the kept session had gone stale: open a fresh one once
                raise SendError(f"connection lost: {exc}") from None
            except AddressRefused as exc:
                self._drop(smtp)
                raise SendError(f"{smtp.host}: {exc}", permanent=True) from None
            except smtplib.SMTPRecipientsRefused as exc:
                self._drop_if_broken(smtp)
                raise SendError(
                    f"every recipient refused: {_codes(exc.recipients)}", permanent=True
                ) from None
            except smtplib.SMTPAuthenticationError as exc:
                self._drop(smtp)
                raise SendError(f"login refused: {exc.smtp_code}", code=exc.smtp_code) from None
            except smtplib.SMTPResponseException as exc:
                self._drop(smtp)
                permanent = 500 <= exc.smtp_code < 600
                raise SendError(
                    f"server answered {exc.smtp_code} {_text(exc.smtp_error)}",
                    permanent=permanent,
                    code=exc.smtp_code,
                ) from None
            except (smtplib.SMTPException, OSError) as exc:
                self._drop(smtp)
                raise SendError(f"{type(exc).__name__}: {exc}") from None
            if refused:
                # Some accepted: the message went out; the refused ones are reported.
                return f"{message['Message-ID']} (refused: {_codes(refused)})"
            return str(message["Message-ID"])
        raise SendError("connection lost twice")  # pragma: no cover - loop always returns

    def _drop_if_broken(self, smtp: SmtpSettings) -> None:
        session = self._sessions().get(smtp.key)
        if session is not None:
            try:
                session.client.rset()
            except (smtplib.SMTPException, OSError):
                self._drop(smtp)

    def close_all(self) -> None:
        """Close this thread's sessions (end of a send batch, tests)."""
        for key in list(self._sessions()):
            session = self._sessions().pop(key)
            try:
                session.client.quit()
            except (smtplib.SMTPException, OSError):
                session.client.close()


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _codes(refused: dict) -> str:
    return ", ".join(f"{addr} {code}" for addr, (code, _msg) in sorted(refused.items()))


POOL = SmtpPool()
