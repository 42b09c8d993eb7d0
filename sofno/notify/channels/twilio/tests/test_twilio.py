"""SMS, alert calls and the call patch against a local server speaking Twilio's API;
Twilio's callbacks accepted only with a valid signature."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from sofno.events.models import Event
from sofno.monitoring.models import IncidentStatus
from sofno.notify.channels.twilio import sending, twiml
from sofno.notify.models import Delivery
from sofno.notify.testing.fake_twilio import FakeTwilio
from sofno.notify.testing.helpers import device_with_incident, set_profile

SID = "AC" + "0" * 32
TOKEN = "twilio-auth-token-for-tests"
BASE = "https://sofno.example"


@pytest.fixture
def twilio(settings):
    with FakeTwilio(SID, TOKEN) as fake:
        settings.TWILIO_ACCOUNT_SID = SID
        settings.TWILIO_AUTH_TOKEN = TOKEN
        settings.TWILIO_FROM_NUMBER = "+15005550006"
        settings.TWILIO_API_BASE = fake.base_url
        settings.BASE_URL = BASE
        yield fake


def signed_post(path: str, params: dict, token: str = TOKEN):
    signature = RequestValidator(token).compute_signature(BASE + path, params)
    return Client().post(path, params, headers={"X-Twilio-Signature": signature})


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml)


def test_it_sends_an_sms_through_the_twilio_api(twilio):
    result = sending.send_sms("+390612345678", "Till 1 is offline", BASE + "/cb")
    assert result.ok and result.provider_ref.startswith("SM")
    (request,) = twilio.requests
    assert request.kind == "Messages"
    assert request.form == {
        "To": "+390612345678",
        "From": "+15005550006",
        "Body": "Till 1 is offline",
        "StatusCallback": BASE + "/cb",
    }
    assert request.sid == result.provider_ref


def test_it_reports_twilio_errors_as_permanent_or_retryable(twilio, settings):
    twilio.fail_next = (400, 21211, "The 'To' number is not a valid phone number.")
    result = sending.send_sms("+1", "x")
    assert not result.ok and result.permanent and "21211" in result.detail
    twilio.fail_next = (503, 20500, "Service unavailable")
    result = sending.send_sms("+390612345678", "x")
    assert not result.ok and not result.permanent and result.status_code == 503
    settings.TWILIO_AUTH_TOKEN = "wrong"
    result = sending.send_sms("+390612345678", "x")
    assert not result.ok and result.permanent and "20003" in result.detail
    assert twilio.requests == []


def test_it_places_an_alert_call_that_reads_the_alert_and_gathers_one_digit(twilio, cast):
    token = twiml.call_token(o=cast.org.pk, u=cast.agent.pk, i="abc")
    result = sending.alert_call("+390611111111", "Till 1 at Pizzeria Roma is offline", token)
    assert result.ok and result.provider_ref.startswith("CA")
    (request,) = twilio.requests
    assert request.kind == "Calls" and request.form["To"] == "+390611111111"
    root = parse(request.form["Twiml"])
    gather = root.find("Gather")
    assert gather.attrib["numDigits"] == "1" and gather.attrib["method"] == "POST"
    assert gather.attrib["action"] == f"{BASE}/notify/twilio/voice/{token}/keypress"
    says = [s.text for s in gather.findall("Say")]
    assert says == [
        "Till 1 at Pizzeria Roma is offline",
        "Press 1 to acknowledge. Press 2 to resolve. Press 3 to silence this alert for 30 minutes.",
    ]
    assert [child.tag for child in root] == ["Gather", "Say", "Hangup"]
    assert {s.attrib["language"] for s in root.iter("Say")} == {"en-US"}


def test_it_places_the_call_patch_with_a_keypress_whisper(twilio, cast):
    token = twiml.call_token(o=cast.org.pk, u=cast.agent.pk, i="abc", p="+390698765432")
    result = sending.patch_call("+390611111111", "Pizzeria Roma needs you.", "Maria Rossi", token)
    assert result.ok
    root = parse(twilio.requests[0].form["Twiml"])
    gather = root.find("Gather")
    # The contact is not dialled until the agent presses 1: a voicemail never does.
    assert root.find(".//Dial") is None
    assert gather.attrib["action"] == f"{BASE}/notify/twilio/patch/{token}/connect"
    assert gather.findall("Say")[1].text == "Press 1 to be connected to Maria Rossi."

    answer = signed_post(f"/notify/twilio/patch/{token}/connect", {"Digits": "1", "CallSid": "CA1"})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/xml")
    dial = parse(answer.content.decode()).find("Dial")
    assert dial.attrib == {
        "answerOnBridge": "true",
        "timeout": "30",
        "action": f"{BASE}/notify/twilio/patch/{token}/outcome",
        "method": "POST",
        "callerId": "+15005550006",
    }
    assert dial.find("Number").text == "+390698765432"


def test_it_does_not_bridge_without_the_keypress(twilio, cast):
    token = twiml.call_token(o=cast.org.pk, u=cast.agent.pk, i="abc", p="+390698765432")
    answer = signed_post(f"/notify/twilio/patch/{token}/connect", {"Digits": "9"})
    assert answer.status_code == 200
    assert parse(answer.content.decode()).find("Dial") is None


def test_it_records_the_call_patch_outcome(twilio, cast):
    token = twiml.call_token(o=cast.org.pk, u=cast.agent.pk, i="abc", p="+390698765432")
    params = {"DialCallStatus": "completed", "DialCallDuration": "42", "CallSid": "CA9"}
    assert signed_post(f"/notify/twilio/patch/{token}/outcome", params).status_code == 200
    event = Event.objects.get(organization=cast.org, type="call_patch.finished")
    assert event.payload["outcome"] == "completed" and event.payload["duration"] == "42"


def test_it_acknowledges_on_keypress_1_and_resolves_on_2(twilio, cast):
    _device, incident = device_with_incident(cast)
    token = twiml.call_token(o=cast.org.pk, u=cast.agent.pk, i=str(incident.public_id))
    path = f"/notify/twilio/voice/{token}/keypress"
    answer = signed_post(path, {"Digits": "1", "CallSid": "CA1"})
    assert answer.status_code == 200
    assert parse(answer.content.decode()).find("Say").text.startswith("Acknowledged")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED
    assert incident.acknowledged_by == cast.agent
    signed_post(path, {"Digits": "2", "CallSid": "CA1"})
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED


def test_it_refuses_forged_and_unsigned_callbacks(twilio, cast):
    _device, incident = device_with_incident(cast)
    token = twiml.call_token(o=cast.org.pk, u=cast.agent.pk, i=str(incident.public_id))
    path = f"/notify/twilio/voice/{token}/keypress"
    forged = signed_post(path, {"Digits": "1"}, token="not-the-auth-token")
    assert forged.status_code == 403
    assert Client().post(path, {"Digits": "1"}).status_code == 403
    # A valid signature over other parameters does not cover these.
    signature = RequestValidator(TOKEN).compute_signature(BASE + path, {"Digits": "9"})
    tampered = Client().post(path, {"Digits": "1"}, headers={"X-Twilio-Signature": signature})
    assert tampered.status_code == 403
    assert Client().get(path).status_code == 405
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN


def test_it_refuses_a_token_that_was_not_ours(twilio, cast):
    assert signed_post("/notify/twilio/voice/made-up/keypress", {"Digits": "1"}).status_code == 403


def test_a_viewer_cannot_acknowledge_by_phone(twilio, cast):
    _device, incident = device_with_incident(cast)
    token = twiml.call_token(o=cast.org.pk, u=cast.viewer.pk, i=str(incident.public_id))
    answer = signed_post(f"/notify/twilio/voice/{token}/keypress", {"Digits": "1"})
    assert "may not" in answer.content.decode()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN


def sms_delivery(cast, incident, phone="+390611111111"):
    from sofno.events.emit import emit

    event = emit(
        cast.org,
        "incident.alert",
        f"device:{incident.device.public_id}",
        {"incident_id": str(incident.public_id), "title": incident.title},
    )
    return Delivery.objects.create(
        organization=cast.org,
        event=event,
        channel="sms",
        address=phone,
        recipient_user=cast.agent,
        sequence=event.sequence,
    )


def test_it_acknowledges_from_an_sms_reply_naming_the_alert(twilio, cast):
    _device, incident = device_with_incident(cast)
    delivery = sms_delivery(cast, incident)
    params = {
        "From": "+390611111111",
        "To": "+15005550006",
        "Body": f"ack {delivery.event.sequence}",
    }
    answer = signed_post("/notify/twilio/sms", params)
    assert answer.status_code == 200
    assert parse(answer.content.decode()).find("Message").text.startswith("Acknowledged")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED


def test_it_resolves_from_a_bare_6_reply_and_refuses_forged_replies(twilio, cast):
    _device, incident = device_with_incident(cast)
    sms_delivery(cast, incident)
    params = {"From": "+390611111111", "Body": "6"}
    assert signed_post("/notify/twilio/sms", params, token="forged").status_code == 403
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN
    assert signed_post("/notify/twilio/sms", params).status_code == 200
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED


def test_it_answers_help_to_an_unknown_reply_and_ignores_strangers(twilio, cast):
    answer = signed_post("/notify/twilio/sms", {"From": "+390611111111", "Body": "hello"})
    assert "Reply ACK or 4" in answer.content.decode()
    answer = signed_post("/notify/twilio/sms", {"From": "+19999999999", "Body": "4"})
    assert "No alert found" in answer.content.decode()


def test_it_keeps_status_callbacks_on_the_delivery(twilio, cast):
    _device, incident = device_with_incident(cast)
    delivery = sms_delivery(cast, incident)
    path = f"/notify/twilio/status/{delivery.public_id}"
    params = {"MessageStatus": "undelivered", "ErrorCode": "30003", "MessageSid": "SM1"}
    assert signed_post(path, params, token="forged").status_code == 403
    assert signed_post(path, params).status_code == 204
    delivery.refresh_from_db()
    assert delivery.last_detail == "Twilio: undelivered (error 30003)"


def test_it_answers_a_second_keypress_on_the_same_incident_without_failing(twilio, cast):
    _device, incident = device_with_incident(cast)
    token = twiml.call_token(o=cast.org.pk, u=cast.agent.pk, i=str(incident.public_id))
    path = f"/notify/twilio/voice/{token}/keypress"
    assert signed_post(path, {"Digits": "1", "CallSid": "CA1"}).status_code == 200
    again = signed_post(path, {"Digits": "1", "CallSid": "CA2"})
    assert again.status_code == 200
    assert "already acknowledged" in parse(again.content.decode()).find("Say").text
    signed_post(path, {"Digits": "2", "CallSid": "CA2"})
    resolved_again = signed_post(path, {"Digits": "2", "CallSid": "CA3"})
    assert resolved_again.status_code == 200
    assert "already resolved" in parse(resolved_again.content.decode()).find("Say").text
    too_late = signed_post(path, {"Digits": "1", "CallSid": "CA4"})
    assert "already resolved" in parse(too_late.content.decode()).find("Say").text
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED


def test_it_answers_a_second_ack_reply_without_failing(twilio, cast):
    _device, incident = device_with_incident(cast)
    sms_delivery(cast, incident)
    params = {"From": "+390611111111", "To": "+15005550006", "Body": "ACK"}
    assert signed_post("/notify/twilio/sms", params).status_code == 200
    again = signed_post("/notify/twilio/sms", params)
    assert again.status_code == 200
    assert "already acknowledged" in parse(again.content.decode()).find("Message").text


SPANISH_GOODBYE = "No se ha pulsado ninguna tecla. Adiós."


def test_a_spanish_persons_alert_call_speaks_spanish(twilio, cast):
    set_profile(cast.agent, language="es")
    token = twiml.call_token(o=cast.org.pk, u=cast.agent.pk, i="abc", l="es")
    assert sending.alert_call("+390611111111", "Caja 1 está sin conexión", token, language="es")
    root = parse(twilio.requests[0].form["Twiml"])
    says = [s.text for s in root.iter("Say")]
    assert says == [
        "Caja 1 está sin conexión",
        "Pulsa 1 para reconocer. Pulsa 2 para resolver. Pulsa 3 para silenciar esta alerta "
        "durante 30 minutos.",
        SPANISH_GOODBYE,
    ]
    assert {s.attrib["language"] for s in root.iter("Say")} == {"es-ES"}
    spoken = " ".join(says)
    assert not any(word in spoken for word in ("Press", "Goodbye", "acknowledge", "key"))


def test_a_spanish_persons_keypress_is_answered_in_spanish(twilio, cast):
    set_profile(cast.agent, language="es")
    _device, incident = device_with_incident(cast)
    token = twiml.call_token(o=cast.org.pk, u=cast.agent.pk, i=str(incident.public_id), l="es")
    path = f"/notify/twilio/voice/{token}/keypress"
    wrong = parse(signed_post(path, {"Digits": "9"}).content.decode()).find("Say")
    assert wrong.attrib["language"] == "es-ES"
    assert wrong.text == "Esa tecla no hace nada. Adiós."
    said = parse(signed_post(path, {"Digits": "1"}).content.decode()).find("Say").text
    # Named in Spanish words, not by the stored English title.
    assert said.startswith("Reconocida:") and incident.title not in said


def test_a_spanish_agent_hears_the_call_patch_in_spanish(twilio, cast):
    token = twiml.call_token(o=cast.org.pk, u=cast.agent.pk, i="abc", p="+390698765432", l="es")
    assert sending.patch_call("+390611111111", "Pizzeria Roma", "Maria Rossi", token, language="es")
    root = parse(twilio.requests[0].form["Twiml"])
    assert root.find("Gather").findall("Say")[1].text == "Pulsa 1 para hablar con Maria Rossi."
    assert root.find("Say").text == SPANISH_GOODBYE
    assert {s.attrib["language"] for s in root.iter("Say")} == {"es-ES"}

    connect = f"/notify/twilio/patch/{token}/connect"
    connecting = parse(signed_post(connect, {"Digits": "1"}).content.decode()).find("Say")
    assert (connecting.text, connecting.attrib["language"]) == ("Te conectamos ahora.", "es-ES")
    refused = parse(signed_post(connect, {"Digits": "2"}).content.decode()).find("Say")
    assert refused.text == "No se ha conectado. Adiós."
    outcome = signed_post(f"/notify/twilio/patch/{token}/outcome", {"DialCallStatus": "busy"})
    assert parse(outcome.content.decode()).find("Say").text == "La llamada ha terminado. Adiós."


def test_a_token_without_a_language_answers_in_the_persons_profile_language(twilio, cast):
    set_profile(cast.agent, language="it")
    token = twiml.call_token(o=cast.org.pk, u=cast.agent.pk, i="abc")
    said = parse(signed_post(f"/notify/twilio/voice/{token}/keypress", {"Digits": "9"}).content)
    assert said.find("Say").attrib["language"] == "it-IT"
    assert "Goodbye" not in said.find("Say").text


def test_a_spanish_persons_sms_replies_are_answered_in_spanish(twilio, cast):
    set_profile(cast.agent, language="es")
    _device, incident = device_with_incident(cast)
    sms_delivery(cast, incident)
    help_text = signed_post("/notify/twilio/sms", {"From": "+390611111111", "Body": "hola"})
    assert parse(help_text.content.decode()).find("Message").text == (
        "Responde ACK o 4 para reconocer, RES o 6 para resolver."
    )
    answer = signed_post("/notify/twilio/sms", {"From": "+390611111111", "Body": "ACK"})
    said = parse(answer.content.decode()).find("Message").text
    assert said.startswith("Reconocida:") and incident.title not in said
