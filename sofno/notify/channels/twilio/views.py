"""Twilio's callbacks: keypresses, the call patch, status reports, SMS replies.

Every view here is called by Twilio, not by a browser, and trusts a request only with
a valid ``X-Twilio-Signature`` (HMAC-SHA1 of our public URL plus the sorted POST
parameters, keyed with the auth token). A forged or unsigned request gets 403 and
changes nothing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from sofno.core.models import Organization
from sofno.events.emit import emit
from sofno.notify import conf
from sofno.notify.channels.twilio import twiml
from sofno.notify.escalation import phone
from sofno.notify.escalation.sms_replies import handle_reply, language_for
from sofno.notify.models import Delivery

TWIML = "text/xml; charset=utf-8"


def signed_url(request: HttpRequest) -> str:
    """The URL Twilio signed: our public base URL and the path it requested."""
    return conf.base_url() + request.get_full_path()


def valid_signature(request: HttpRequest) -> bool:
    """Whether the request carries Twilio's signature for this URL and these parameters."""
    token = conf.setting("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    params = {key: request.POST.get(key) for key in request.POST}
    return RequestValidator(token).validate(signed_url(request), params, signature)


def twilio_signed(view: Callable) -> Callable:
    """POST only, CSRF-exempt (Twilio has no cookie), and a valid signature required."""

    @csrf_exempt
    @require_POST
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not valid_signature(request):
            return HttpResponseForbidden("invalid Twilio signature")
        return view(request, *args, **kwargs)

    return wrapper


def _token(token: str) -> dict | None:
    try:
        return twiml.read_call_token(token)
    except signing.BadSignature:
        return None


def _twiml(xml: str) -> HttpResponse:
    return HttpResponse(xml, content_type=TWIML)


def _language(data: dict) -> str:
    """The called person's language: the one the call spoke (``l`` in the token), else,
    for a token made before it carried one, their profile's."""
    return data.get("l") or phone.language_of(data.get("u"))


def _answer(message: str, language: str) -> HttpResponse:
    return _twiml(twiml.keypress_answer(message, language))


@twilio_signed
def keypress(request: HttpRequest, token: str) -> HttpResponse:
    """The digit pressed during an alert call: 1 acknowledges, 2 resolves, 3 silences
    the incident's escalation for 30 minutes."""
    data = _token(token)
    if data is None:
        return HttpResponseForbidden("invalid call token")
    language = _language(data)
    with translation.override(language):
        action = phone.KEYS.get(request.POST.get("Digits", ""))
        if action is None:
            return _answer(_("That key does nothing. Goodbye."), language)
        actor = phone.actor_for(data["o"], data["u"])
        if actor is None:
            return _answer(_("You are no longer a member. Goodbye."), language)
        message = phone.act_on_incident(actor, data.get("i", ""), action)
        return _answer(message, language)


@twilio_signed
def patch_connect(request: HttpRequest, token: str) -> HttpResponse:
    """The agent pressed a key in the call patch: 1 bridges them to the contact."""
    data = _token(token)
    if data is None:
        return HttpResponseForbidden("invalid call token")
    language = _language(data)
    if request.POST.get("Digits") != "1" or not data.get("p"):
        with translation.override(language):
            return _answer(_("Not connected. Goodbye."), language)
    caller_id = conf.setting("TWILIO_FROM_NUMBER")
    return _twiml(twiml.patch_connect(data["p"], caller_id, token, language))


@twilio_signed
def patch_outcome(request: HttpRequest, token: str) -> HttpResponse:
    """How the bridge ended (``DialCallStatus``): recorded in the event log."""
    data = _token(token)
    if data is None:
        return HttpResponseForbidden("invalid call token")

    organization = Organization.objects.filter(pk=data["o"]).first()
    if organization is not None:
        emit(
            organization,
            "call_patch.finished",
            f"incident:{data.get('i', '')}",
            {
                "incident_id": data.get("i", ""),
                "contact_phone": data.get("p", ""),
                "outcome": request.POST.get("DialCallStatus", ""),
                "duration": request.POST.get("DialCallDuration", ""),
                "call_sid": request.POST.get("CallSid", ""),
            },
        )
    language = _language(data)
    with translation.override(language):
        return _answer(_("The call has ended. Goodbye."), language)


@twilio_signed
def status(request: HttpRequest, delivery_id: str) -> HttpResponse:
    """A delivery report for an SMS or a call: kept on the delivery."""
    state = request.POST.get("MessageStatus") or request.POST.get("CallStatus") or ""
    code = request.POST.get("ErrorCode", "")
    detail = f"Twilio: {state}" + (f" (error {code})" if code else "")
    Delivery.objects.filter(public_id=delivery_id).update(last_detail=detail[:500])
    return HttpResponse(status=204)


REPLY = re.compile(r"^\s*(?P<word>[A-Za-z]+|[46])\s*(?P<ref>\d+)?\s*$")


@twilio_signed
def sms_reply(request: HttpRequest) -> HttpResponse:
    """An SMS sent back to our number: ``ACK 1234``, ``4`` (acknowledge), ``6`` (resolve).

    The number the reply came from names the person; the reference (the number shown
    in the alert SMS) names the alert, else the latest alert sent to that number. The
    answer is in that person's language.
    """
    sender = request.POST.get("From", "")
    match = REPLY.match(request.POST.get("Body", ""))
    response = MessagingResponse()
    action = phone.SMS_WORDS.get(match["word"].upper()) if match else None
    with translation.override(language_for(sender)):
        if action is None:
            # The reply words stay ACK/RES/4/6 in every language: they are what we parse.
            response.message(_("Reply ACK or 4 to acknowledge, RES or 6 to resolve."))
            return _twiml(str(response))
        response.message(handle_reply(sender, action, match["ref"]))
    return _twiml(str(response))
