"""Event types on the pages: their description in the reader's language, the code
small beside it (admins write webhook filters with it)."""

from __future__ import annotations

from django.test import Client

from sofno.directory.models import StaffProfile
from sofno.events.emit import emit
from sofno.events.models import CustomEventType
from sofno.notify.models import NotificationRule

OFFLINE_ES = "Un equipo no hizo check-in a tiempo."


def _client_speaking(user, language: str) -> Client:
    StaffProfile.objects.filter(user=user).update(language=language)
    client = Client()
    client.force_login(user)
    return client


def test_it_names_the_events_of_the_log_in_words(cast):
    event = emit(cast.org, "device.offline", data={"device_name": "Till 1"})
    CustomEventType.objects.create(
        organization=cast.org, name="invoice.overdue", description="Factura vencida"
    )
    emit(cast.org, "invoice.overdue")
    client = _client_speaking(cast.agent, "es")
    listed = client.get("/events/").content.decode()
    rows = listed.split('id="events"', 1)[1]
    assert OFFLINE_ES in rows and ">device.offline</code>" in rows
    assert "Factura vencida" in rows and ">invoice.overdue</code>" in rows
    assert "A device missed" not in listed
    # The filter's suggestions carry the words too.
    assert f'<option value="device.offline">{OFFLINE_ES}</option>' in listed
    detail = client.get(f"/events/{event.public_id}/").content.decode()
    assert f"<title>{OFFLINE_ES}" in detail and "<code>device.offline</code>" in detail
    routing = client.get(f"/notifications/events/{event.public_id}/").content.decode()
    assert OFFLINE_ES in routing and ">device.offline</code>" in routing


def test_it_offers_the_event_types_in_words_in_the_rule_builder(cast):
    page = _client_speaking(cast.owner, "es").get("/notifications/rules/new").content.decode()
    offered = page.split('id="event-type-list"', 1)[1]
    assert f'{OFFLINE_ES} <code class="small text-muted">device.offline</code>' in offered
    assert "Se abrió un ticket." in offered and "Todos los eventos ticket" in offered
    assert "A device missed" not in page
    # The fields of a type, in words, for the condition rows.
    assert '["device_name", "device_name \\u2014 nombre del equipo"]' in page


def test_it_names_the_event_types_of_rules_and_templates_in_words(cast):
    NotificationRule.objects.create(
        organization=cast.org, name="Tills", event_types=["ticket.created", "device.*"]
    )
    client = _client_speaking(cast.owner, "ca")
    rules = client.get("/notifications/rules/").content.decode().split('id="rules"', 1)[1]
    assert "S&#x27;ha obert un tiquet." in rules and ">ticket.created</code>" in rules
    assert "Tots els esdeveniments device" in rules
    form = client.get("/notifications/templates/new").content.decode()
    assert "Un equip no ha fet el check-in a temps. (device.offline)</option>" in form
