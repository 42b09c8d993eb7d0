"""SMS and calls through Twilio's REST API (the official SDK), as channel results."""

from __future__ import annotations

from twilio.base.exceptions import TwilioException, TwilioRestException

from sofno.notify import conf
from sofno.notify.channels.base import Result
from sofno.notify.channels.twilio import twiml
from sofno.notify.channels.twilio.client import client

# Twilio error codes that retrying cannot fix: invalid or unreachable numbers,
# unsubscribed recipients, numbers we may not send from.
PERMANENT_CODES = {21211, 21214, 21217, 21219, 21408, 21610, 21612, 21614, 21606, 21659}


def _failure(exc: Exception) -> Result:
    if isinstance(exc, TwilioRestException):
        permanent = exc.code in PERMANENT_CODES or exc.status in (400, 401, 403, 404)
        return Result(
            ok=False,
            permanent=permanent,
            status_code=exc.status,
            detail=f"Twilio {exc.status} error {exc.code}: {exc.msg}"[:500],
        )
    return Result(ok=False, detail=f"{type(exc).__name__}: {exc}"[:500])


def send_sms(to: str, body: str, status_callback: str = "") -> Result:
    """One SMS; ``status_callback`` receives the delivery reports (signed)."""
    if not conf.twilio_configured():
        return Result(ok=False, permanent=True, detail="Twilio is not configured")
    try:
        message = client().messages.create(
            to=to,
            from_=conf.setting("TWILIO_FROM_NUMBER"),
            body=body[:1600],
            status_callback=status_callback or None,
        )
    except (TwilioException, OSError) as exc:
        return _failure(exc)
    return Result(ok=True, provider_ref=message.sid or "", status_code=201)


def _call(to: str, xml: str, status_callback: str) -> Result:
    if not conf.twilio_configured():
        return Result(ok=False, permanent=True, detail="Twilio is not configured")
    try:
        call = client().calls.create(
            to=to,
            from_=conf.setting("TWILIO_FROM_NUMBER"),
            twiml=xml,
            status_callback=status_callback or None,
        )
    except (TwilioException, OSError) as exc:
        return _failure(exc)
    return Result(ok=True, provider_ref=call.sid or "", status_code=201)


def alert_call(
    to: str, text: str, token: str, status_callback: str = "", language: str = "en"
) -> Result:
    """Call ``to``, read ``text`` and take a keypress (see :func:`twiml.alert_call`);
    the prompts are in ``language``."""
    return _call(to, twiml.alert_call(text, token, language), status_callback)


def patch_call(
    agent_phone: str,
    text: str,
    contact_name: str,
    token: str,
    status_callback: str = "",
    language: str = "en",
) -> Result:
    """Ring the agent; on their keypress they are bridged to the contact in the token.
    The agent hears the prompts in ``language``."""
    xml = twiml.patch_offer(text, contact_name, token, language)
    return _call(agent_phone, xml, status_callback)
