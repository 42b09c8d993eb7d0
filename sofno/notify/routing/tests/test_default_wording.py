"""The built-in notification wording in the recipient's language.

A translation of a headline must keep exactly the English source's tokens, or a
Spanish technician would get a broken (or refused) alert; and a Spanish recipient
must get Spanish, not the stored English incident title.
"""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from sofno.directory.models import Customer
from sofno.events import catalog
from sofno.events.emit import emit
from sofno.monitoring import actions
from sofno.monitoring.actions import device_data
from sofno.notify.channels.twilio.tests.test_twilio import twilio  # noqa: F401
from sofno.notify.delivery import machinery
from sofno.notify.models import Delivery, DeliveryMessage, InboxItem, NotificationRule
from sofno.notify.routing import default_templates as defaults
from sofno.notify.routing import dispatcher
from sofno.notify.routing.templating import check, render, sample_context
from sofno.notify.testing.helpers import owner, set_profile, silence_a_site

LANGUAGES = ("es", "it", "ca")
CHANNELS = ("email", "sms", "voice", "inapp")
PLACEHOLDER = re.compile(r"{{.*?}}|{%.*?%}|%\(\w+\)s")
# Words of the English headlines that must not reach a Spanish recipient.
ENGLISH = re.compile(r"\b(is|of|offline|down|Alert|Incident|computers|back)\b")


def msgids() -> list[str]:
    """Every translatable source the built-in headlines are made of."""
    sources = list(defaults.HEADLINES.values())
    sources += [*defaults.DOWN.values(), *defaults.NAMED.values()]
    sources += [sentence for sentence, _what in defaults.INCIDENT_HEADLINES.values()]
    return sources


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_translated_headline_keeps_the_english_tokens(language):
    with translation.override(language):
        for source in msgids():
            translated = translation.gettext(source)
            assert placeholders(translated) == placeholders(source), (language, source)
            # Only a source with no words (tokens and brackets) may stay as it is.
            if re.sub(PLACEHOLDER, "", source).strip(" ()"):
                assert translated != source, (language, source)


def site_context(event_type) -> dict:
    """A site incident's sample: the payload carries counts, not a device."""
    context = sample_context(event_type)
    context.update(kind="site", customer_name="Café Central", devices_down=4, devices_total=4)
    context.pop("device_name", None)
    return context


@pytest.mark.parametrize("language", ("en", *LANGUAGES))
@pytest.mark.parametrize("channel", CHANNELS)
def test_every_default_renders_with_the_sample_payload_in_every_language(language, channel):
    for event_type in catalog.BUILTIN.values():
        parts = defaults.default_parts(event_type, channel, language)
        assert check(parts, event_type) == [], (language, event_type.name)
        contexts = [sample_context(event_type)]
        if event_type.name in defaults.INCIDENT_HEADLINES:
            contexts.append(site_context(event_type))
        for context in contexts:
            rendered = render(parts, context)
            assert rendered.subject and rendered.text, (language, event_type.name)
            assert "{" not in rendered.subject, (language, event_type.name)


def test_incident_headlines_say_what_happened_without_the_english_title():
    alert = catalog.builtin("incident.alert")
    with translation.override("es"):
        parts = defaults.default_parts(alert, "sms", "es")
    device = render(parts, {**sample_context(alert), "title": "Till 1 is offline"})
    assert device.subject == "Alerta: Till 1 (Pizzeria Roma) está desconectado"
    site = render(parts, {**site_context(alert), "title": "Café Central is down"})
    assert site.subject == "Alerta: Café Central sin servicio (4 de 4 equipos desconectados)"
    resolved = catalog.builtin("incident.resolved")
    parts = defaults.default_parts(resolved, "inapp", "ca")
    assert render(parts, site_context(resolved)).subject == (
        "Resolta: la incidència d'ubicació de Café Central"
    )


def test_email_lines_are_labelled_by_the_tokens_description():
    offline = catalog.builtin("device.offline")
    parts = defaults.default_parts(offline, "email", "it")
    text = render(parts, sample_context(offline)).text
    assert "Till 1 (Pizzeria Roma) non è in linea" in text.splitlines()[0]
    with translation.override("it"):
        label = str(next(t for t in offline.tokens if t.name == "device_name").description)
    assert label != "device_name" and f"{label}: Till 1" in text
    assert "device_name:" not in text


def dispatch(cast):
    while dispatcher.dispatch_organization(cast.org.pk):
        pass


def contents(event_type: str) -> dict[str, dict]:
    deliveries = Delivery.objects.filter(event__type=event_type).exclude(channel="webhook")
    return {
        d.channel: DeliveryMessage.objects.get(delivery=d).content
        for d in deliveries.select_related("event")
    }


def test_a_spanish_technician_gets_a_device_offline_in_spanish(cast, twilio):  # noqa: F811
    set_profile(cast.agent, language="es", phone="+34600111222")
    customer = Customer.objects.create(organization=cast.org, name="Pizzeria Roma")
    customer.assigned_agents.add(cast.agent)
    device, _key = actions.create_device(
        acting_user=owner(cast), customer=customer, fields={"name": "Till 1"}
    )
    NotificationRule.objects.create(
        organization=cast.org,
        name="Offline tills",
        event_types=["device.offline"],
        recipients=[{"kind": "assigned_agents"}],
        channels=["sms"],
    )
    emit(cast.org, "device.offline", f"device:{device.public_id}", device_data(device))
    dispatch(cast)
    machinery.deliver_all(max_seconds=10)

    (sms,) = [r for r in twilio.requests if r.kind == "Messages"]
    assert sms.form["Body"] == "Till 1 (Pizzeria Roma) está desconectado"
    item = InboxItem.objects.get(user=cast.agent)
    assert item.title == "Till 1 (Pizzeria Roma) está desconectado"


def test_a_spanish_technician_gets_a_site_incident_alert_in_spanish(cast, twilio):  # noqa: F811
    set_profile(cast.agent, language="es", phone="+34600111222")
    customer = Customer.objects.create(organization=cast.org, name="Café Central")
    silence_a_site(cast, customer, rule="Site alerts", channels=["sms"])

    found = contents("incident.alert")
    headline = "Alerta: Café Central sin servicio (2 de 2 equipos desconectados)"
    assert found["inapp"]["subject"] == headline
    first, hint = found["sms"]["text"].split("\n")
    assert first == headline and not ENGLISH.search(first)
    assert hint.startswith("Responde ACK ") and hint.endswith("para reconocer, 6 para resolver.")
    # The stored title stays English for events: the wording did not come from it.
    (event,) = {d.event for d in Delivery.objects.filter(event__type="incident.alert")}
    assert event.payload["title"] == "Café Central is down (2 of 2 computers offline)"
