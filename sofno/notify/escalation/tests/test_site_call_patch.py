"""The call patch of a site incident: the agent hears that the site is down and is
bridged to the customer's reachable contact (the person who can check the router)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sofno.directory.models import Contact, ContactType, Customer
from sofno.notify.channels.twilio import twiml
from sofno.notify.channels.twilio.tests.test_twilio import twilio  # noqa: F401
from sofno.notify.delivery import machinery
from sofno.notify.models import Delivery, DeliveryMessage
from sofno.notify.testing.helpers import set_profile, silence_a_site


def ring_the_agent_for_a_site(cast, language: str = "en"):
    """Two tills of Café Central go offline; the call patch rule rings the agent."""
    customer = Customer.objects.create(organization=cast.org, name="Café Central")
    Contact.objects.create(
        organization=cast.org,
        customer=customer,
        contact_type=ContactType.objects.get(organization=cast.org, slug="service"),
        name="Marta",
        phone="+390612345678",
    )
    set_profile(cast.agent, phone="+390611111111", language=language)
    silence_a_site(cast, customer, rule="Patch the agent to the site", channels=["call_patch"])
    (patch,) = Delivery.objects.filter(channel="call_patch")
    content = DeliveryMessage.objects.get(delivery=patch).content
    assert (content["patch_phone"], content["patch_name"]) == ("+390612345678", "Marta")
    machinery.deliver_all(max_seconds=10)


def test_a_site_incident_rings_the_agent_and_bridges_the_sites_contact(cast, twilio):  # noqa: F811
    ring_the_agent_for_a_site(cast)
    (call,) = twilio.requests
    assert call.form["To"] == "+390611111111"
    said = [s.text for s in ET.fromstring(call.form["Twiml"]).iter("Say")]
    assert any("Café Central is down (2 of 2 computers offline)" in s for s in said)
    assert "Press 1 to be connected to Marta." in said


def test_a_spanish_agent_is_rung_in_spanish_and_answered_in_spanish(cast, twilio):  # noqa: F811
    ring_the_agent_for_a_site(cast, language="es")
    (call,) = twilio.requests
    root = ET.fromstring(call.form["Twiml"])
    said = [s.text for s in root.iter("Say")]
    assert "Pulsa 1 para hablar con Marta." in said
    assert not any("Press" in s or "Goodbye" in s for s in said)
    assert {s.attrib["language"] for s in root.iter("Say")} == {"es-ES"}
    # The token in the callback URL carries the language to the keypress answer.
    token = twiml.read_call_token(root.find("Gather").attrib["action"].split("/")[-2])
    assert token["l"] == "es"
