"""The TwiML we serve: the alert call with a keypad, and the call patch.

Built with the SDK's ``VoiceResponse`` (it escapes the text). Inline TwiML is
limited to 4,000 characters, so spoken text is cut to fit.

Call patch (ring the agent, then bridge the customer's contact):

1. ``calls.create(to=agent, twiml=patch_offer(...))``: the agent hears who needs them
   and must press 1; a voicemail never presses 1, so it is never bridged;
2. the keypress posts to ``.../connect``, which answers :func:`patch_connect`: a
   ``<Dial answerOnBridge>`` to the contact, with a timeout and an ``action`` URL;
3. Twilio posts the outcome (``DialCallStatus``) to ``.../outcome``.
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse
from twilio.twiml.voice_response import Gather, VoiceResponse

from sofno.notify import conf

INLINE_LIMIT = 4000
SAY_LIMIT = 1200
DIAL_TIMEOUT = 30
GATHER_TIMEOUT = 10
TOKEN_SALT = "sofno.notify.twilio.call"
TOKEN_MAX_AGE = 2 * 24 * 3600
KEYPAD_HELP = (
    "Press 1 to acknowledge. Press 2 to resolve. Press 3 to silence this alert for 30 minutes."
)


def call_token(**data: object) -> str:
    """A signed, URL-safe token naming the call's organization, person and subject."""
    return signing.dumps(data, salt=TOKEN_SALT, compress=True)


def read_call_token(token: str) -> dict:
    """The data of a token made by :func:`call_token`; raises ``signing.BadSignature``."""
    return signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)


def absolute(name: str, token: str) -> str:
    return conf.base_url() + reverse(name, args=[token])


def _say(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SAY_LIMIT else text[: SAY_LIMIT - 1] + "…"


def alert_call(text: str, token: str) -> str:
    """The alert call: read the alert, take one digit (1 ack, 2 resolve, 3 silence)."""
    response = VoiceResponse()
    gather = Gather(
        num_digits=1,
        action=absolute("notify:twilio-keypress", token),
        method="POST",
        timeout=GATHER_TIMEOUT,
    )
    gather.say(_say(text))
    gather.say(KEYPAD_HELP)
    response.append(gather)
    response.say("No key was pressed. Goodbye.")
    response.hangup()
    return _fit(response)


def keypress_answer(message: str) -> str:
    """What the caller hears after pressing a key."""
    response = VoiceResponse()
    response.say(_say(message))
    response.hangup()
    return str(response)


def patch_offer(text: str, contact_name: str, token: str) -> str:
    """First leg of the call patch, played to the agent: press 1 to be connected."""
    response = VoiceResponse()
    gather = Gather(
        num_digits=1,
        action=absolute("notify:twilio-patch-connect", token),
        method="POST",
        timeout=GATHER_TIMEOUT,
    )
    gather.say(_say(text))
    gather.say(f"Press 1 to be connected to {_say(contact_name) or 'the customer'}.")
    response.append(gather)
    response.say("No key was pressed. Goodbye.")
    response.hangup()
    return _fit(response)


def patch_connect(contact_phone: str, caller_id: str, token: str) -> str:
    """Second leg: bridge the agent to the customer's contact."""
    response = VoiceResponse()
    response.say("Connecting you now.")
    dial = response.dial(
        answer_on_bridge=True,
        timeout=DIAL_TIMEOUT,
        action=absolute("notify:twilio-patch-outcome", token),
        method="POST",
        caller_id=caller_id or None,
    )
    dial.number(contact_phone)
    return str(response)


def _fit(response: VoiceResponse) -> str:
    xml = str(response)
    if len(xml) > INLINE_LIMIT:  # cannot happen with SAY_LIMIT, but never send a 400
        raise ValueError("TwiML longer than Twilio's inline limit")
    return xml
