"""The TwiML we serve: the alert call with a keypad, and the call patch.

Built with the SDK's ``VoiceResponse`` (it escapes the text). Inline TwiML is
limited to 4,000 characters, so spoken text is cut to fit.

Call patch (ring the agent, then bridge the customer's contact):

1. ``calls.create(to=agent, twiml=patch_offer(...))``: the agent hears who needs them
   and must press 1; a voicemail never presses 1, so it is never bridged;
2. the keypress posts to ``.../connect``, which answers :func:`patch_connect`: a
   ``<Dial answerOnBridge>`` to the contact, with a timeout and an ``action`` URL;
3. Twilio posts the outcome (``DialCallStatus``) to ``.../outcome``.

Everything is said in the called person's language (``language``, carried in the call
token as ``l`` so the callbacks answer in it too): sentences are gettext strings built
under ``translation.override``, and every ``<Say>`` names its language.
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from twilio.twiml.voice_response import Gather, VoiceResponse

from sofno.notify import conf

INLINE_LIMIT = 4000
SAY_LIMIT = 1200
DIAL_TIMEOUT = 30
GATHER_TIMEOUT = 10
TOKEN_SALT = "sofno.notify.twilio.call"
TOKEN_MAX_AGE = 2 * 24 * 3600
# Twilio's <Say> locale for each of our languages. The voice is "alice": Twilio's
# default voice ("man") speaks only a few languages (no Catalan, no Italian), while
# "alice" speaks all four; an unsupported voice and language pair fails the <Say>.
SAY_LANGUAGES = {"en": "en-US", "es": "es-ES", "it": "it-IT", "ca": "ca-ES"}
VOICE = "alice"


def say_language(language: str) -> str:
    """Twilio's locale for one of our language codes; English for any other."""
    return SAY_LANGUAGES.get(language, SAY_LANGUAGES["en"])


def keypad_help() -> str:
    """The keypad choices, in the active language."""
    return _(
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


def _speak(parent: VoiceResponse | Gather, text: str, language: str) -> None:
    parent.say(_say(text), voice=VOICE, language=say_language(language))


def alert_call(text: str, token: str, language: str = "en") -> str:
    """The alert call: read the alert, take one digit (1 ack, 2 resolve, 3 silence)."""
    response = VoiceResponse()
    gather = Gather(
        num_digits=1,
        action=absolute("notify:twilio-keypress", token),
        method="POST",
        timeout=GATHER_TIMEOUT,
    )
    with translation.override(language):
        _speak(gather, text, language)
        _speak(gather, keypad_help(), language)
        response.append(gather)
        _speak(response, _("No key was pressed. Goodbye."), language)
    response.hangup()
    return _fit(response)


def keypress_answer(message: str, language: str = "en") -> str:
    """What the caller hears after pressing a key (``message`` is already in
    ``language``)."""
    response = VoiceResponse()
    _speak(response, message, language)
    response.hangup()
    return str(response)


def patch_offer(text: str, contact_name: str, token: str, language: str = "en") -> str:
    """First leg of the call patch, played to the agent: press 1 to be connected."""
    response = VoiceResponse()
    gather = Gather(
        num_digits=1,
        action=absolute("notify:twilio-patch-connect", token),
        method="POST",
        timeout=GATHER_TIMEOUT,
    )
    with translation.override(language):
        _speak(gather, text, language)
        name = _say(contact_name)
        offer = (
            _("Press 1 to be connected to %(name)s.") % {"name": name}
            if name
            else _("Press 1 to be connected to the customer.")
        )
        _speak(gather, offer, language)
        response.append(gather)
        _speak(response, _("No key was pressed. Goodbye."), language)
    response.hangup()
    return _fit(response)


def patch_connect(contact_phone: str, caller_id: str, token: str, language: str = "en") -> str:
    """Second leg: bridge the agent to the customer's contact."""
    response = VoiceResponse()
    with translation.override(language):
        _speak(response, _("Connecting you now."), language)
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
