"""Email through a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import socket
import time

import pytest

from sofno.notify import secrets
from sofno.notify.channels.email.sending import send_with_fallback
from sofno.notify.channels.email.smtp import POOL, Email, SmtpSettings
from sofno.notify.testing.smtp_server import SmtpServer


@pytest.fixture
def smtp_server(loopback):
    with SmtpServer(username="mailer", password="s3cret") as server:
        yield server
        POOL.close_all()


@pytest.fixture
def second_server(loopback):
    with SmtpServer() as server:
        yield server
        POOL.close_all()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed when we leave: connecting is refused


def settings_for(server: SmtpServer, **extra) -> SmtpSettings:
    return SmtpSettings(
        "127.0.0.1",
        server.port,
        username=server.username,
        password=server.password,
        from_name="Acme Support",
        from_address="alerts@acme.test",
        **extra,
    )


def test_it_sends_html_and_text_with_to_cc_and_bcc(smtp_server):
    email = Email(
        "Till 1 is offline",
        text="Till 1 stopped checking in.",
        html="<p><b>Till 1</b> stopped checking in.</p>",
        to=["adam@x.test", "olivia@x.test"],
        cc=["desk@x.test", "boss@x.test"],
        bcc=["audit@x.test", "archive@x.test"],
    )
    result = send_with_fallback(email, settings_for(smtp_server), None)
    assert result.ok, result.detail
    (received,) = smtp_server.messages
    assert received.mail_from == "alerts@acme.test"
    assert sorted(received.rcpt_tos) == sorted(
        [
            "adam@x.test",
            "olivia@x.test",
            "desk@x.test",
            "boss@x.test",
            "audit@x.test",
            "archive@x.test",
        ]
    )
    message = received.message
    assert message["To"] == "adam@x.test, olivia@x.test"
    assert message["Cc"] == "desk@x.test, boss@x.test"
    assert message["Bcc"] is None  # bcc recipients are in the envelope only
    assert message["From"] == "Acme Support <alerts@acme.test>"
    assert message["Message-ID"] == result.provider_ref
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert plain.strip() == "Till 1 stopped checking in."
    assert html.strip() == "<p><b>Till 1</b> stopped checking in.</p>"


def test_it_sends_plain_text_only_when_there_is_no_html(smtp_server):
    result = send_with_fallback(
        Email("Hi", text="only text", to=["a@x.test"]), settings_for(smtp_server), None
    )
    assert result.ok
    message = smtp_server.messages[0].message
    assert message.get_content_type() == "text/plain"
    assert message.get_content().strip() == "only text"


def test_it_encodes_non_ascii_subjects_and_names(smtp_server):
    smtp = settings_for(smtp_server)
    smtp = SmtpSettings(**{**smtp.__dict__, "from_name": "Assistência Técnica"})
    assert send_with_fallback(Email("Caffè è offline", text="ò", to=["a@x.test"]), smtp, None).ok
    message = smtp_server.messages[0].message
    assert message["Subject"] == "Caffè è offline"
    assert message["From"].addresses[0].display_name == "Assistência Técnica"


def test_it_reuses_one_connection_for_many_messages(smtp_server):
    smtp = settings_for(smtp_server)
    for n in range(20):
        assert send_with_fallback(Email(f"#{n}", text="x", to=["a@x.test"]), smtp, None).ok
    assert len(smtp_server.messages) == 20
    assert smtp_server.sessions == 1


def test_it_reconnects_when_the_server_dropped_the_session(smtp_server):
    smtp = settings_for(smtp_server)
    assert send_with_fallback(Email("1", text="x", to=["a@x.test"]), smtp, None).ok
    smtp_server.drop_sessions()
    time.sleep(0.2)
    assert send_with_fallback(Email("2", text="x", to=["a@x.test"]), smtp, None).ok
    assert len(smtp_server.messages) == 2 and smtp_server.sessions == 2


def test_it_uses_the_chosen_profile_not_the_default(smtp_server, second_server):
    chosen = settings_for(second_server)
    result = send_with_fallback(
        Email("x", text="x", to=["a@x.test"]), chosen, settings_for(smtp_server)
    )
    assert result.ok and result.detail == ""
    assert len(second_server.messages) == 1 and smtp_server.messages == []


def test_it_falls_back_to_the_default_when_the_chosen_profile_fails(smtp_server):
    broken = SmtpSettings("127.0.0.1", closed_port(), from_address="x@acme.test", timeout=3)
    result = send_with_fallback(
        Email("x", text="x", to=["a@x.test"]), broken, settings_for(smtp_server)
    )
    assert result.ok
    assert "sent through the default profile" in result.detail
    assert len(smtp_server.messages) == 1


def test_it_falls_back_when_the_login_is_refused(smtp_server, second_server):
    wrong = SmtpSettings(
        "127.0.0.1",
        smtp_server.port,
        username="mailer",
        password="nope",
        from_address="x@acme.test",
    )
    result = send_with_fallback(
        Email("x", text="x", to=["a@x.test"]), wrong, settings_for(second_server)
    )
    assert result.ok and "login refused" in result.detail
    assert len(second_server.messages) == 1 and smtp_server.messages == []


def test_it_fails_retryably_when_the_default_itself_is_down(loopback):
    broken = SmtpSettings("127.0.0.1", closed_port(), from_address="x@acme.test", timeout=3)
    result = send_with_fallback(Email("x", text="x", to=["a@x.test"]), None, broken)
    assert not result.ok and not result.permanent
    assert "Connection refused" in result.detail


def test_it_fails_permanently_without_a_profile_or_recipient(smtp_server):
    assert send_with_fallback(Email("x", text="x", to=["a@x.test"]), None, None).permanent
    result = send_with_fallback(Email("x", text="x"), settings_for(smtp_server), None)
    assert not result.ok and result.permanent and "no recipient" in result.detail


def test_it_encrypts_passwords_at_rest(settings):
    stored = secrets.encrypt("s3cret")
    assert stored.startswith("enc1:") and "s3cret" not in stored
    assert secrets.decrypt(stored) == "s3cret"
    assert secrets.encrypt("s3cret") != stored  # random nonce: equal passwords differ
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    with pytest.raises(secrets.UnreadableSecret):
        secrets.decrypt(stored)


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_it_speaks_starttls_and_implicit_tls(loopback, mode):
    with SmtpServer(username="mailer", password="s3cret", tls=mode) as server:
        smtp = SmtpSettings(
            "127.0.0.1",
            server.port,
            tls_mode=mode,
            username="mailer",
            password="s3cret",
            from_address="alerts@acme.test",
            verify_certificates=False,
        )
        try:
            result = send_with_fallback(Email("TLS", text="x", to=["a@x.test"]), smtp, None)
        finally:
            POOL.close_all()
        assert result.ok, result.detail
        assert len(server.messages) == 1
        # Verifying the self-signed certificate, as production does, refuses it.
        strict = SmtpSettings(**{**smtp.__dict__, "verify_certificates": True})
        refused = send_with_fallback(Email("TLS", text="x", to=["a@x.test"]), strict, None)
        POOL.close_all()
        assert not refused.ok and "CERTIFICATE_VERIFY_FAILED" in refused.detail
        assert len(server.messages) == 1


def test_starttls_is_required_by_a_server_that_demands_it(loopback):
    with SmtpServer(tls="starttls") as server:
        plain = SmtpSettings("127.0.0.1", server.port, from_address="alerts@acme.test")
        result = send_with_fallback(Email("x", text="x", to=["a@x.test"]), plain, None)
        POOL.close_all()
        assert not result.ok and "530" in result.detail
        assert server.messages == []
