"""The built-in catalog in the reader's language; custom types as they were typed."""

from __future__ import annotations

import pytest
from django.utils import translation

from sofno.core.testing import ApiClient
from sofno.directory.models import StaffProfile
from sofno.events import catalog
from sofno.events.models import CustomEventType


def _in(language: str, text: object) -> str:
    with translation.override(language):
        return str(text)


@pytest.mark.parametrize("language", ["es", "it", "ca"])
def test_it_describes_every_built_in_type_and_token_in_the_readers_language(language):
    assert len(catalog.BUILTIN) >= 38
    texts = {}
    for event_type in catalog.BUILTIN.values():
        texts[event_type.name] = event_type.description
        for token in event_type.tokens:
            if token.description:  # some tokens say nothing beyond their name
                texts[f"{event_type.name} {token.name}"] = token.description
    untranslated = [
        where for where, text in texts.items() if _in(language, text) == _in("en", text)
    ]
    assert untranslated == []


def test_it_reads_a_description_in_the_language_active_where_it_is_shown():
    offline = catalog.BUILTIN["device.offline"]
    assert _in("en", offline.description) == "A device missed its check-in deadline."
    assert _in("es", offline.description) == "Un equipo no hizo check-in a tiempo."
    assert _in("ca", offline.description) == "Un equip no ha fet el check-in a temps."


@pytest.fixture
def custom(cast):
    return CustomEventType.objects.create(
        organization=cast.org,
        name="invoice.overdue",
        description="An invoice is past its due date.",
        tokens=[{"name": "days", "type": "integer", "description": "days late"}],
    )


def _types(response) -> dict:
    assert response.status_code == 200, response.content
    return {t["name"]: t for t in response.json()}


def test_it_lists_the_catalog_in_the_requests_language(cast, api_client, custom):
    types = _types(api_client(cast.readonly_key).get("/event-types", **{"Accept-Language": "es"}))
    offline = types["device.offline"]
    assert offline["description"] == "Un equipo no hizo check-in a tiempo."
    tokens = {t["name"]: t["description"] for t in offline["tokens"]}
    assert tokens["device_name"] == "nombre del equipo"
    # The organization's own type is shown as it was typed.
    assert types["invoice.overdue"]["description"] == "An invoice is past its due date."
    assert types["invoice.overdue"]["tokens"][0]["description"] == "days late"
    english = _types(api_client(cast.readonly_key).get("/event-types"))
    assert english["device.offline"]["description"] == "A device missed its check-in deadline."


def test_it_lists_the_catalog_in_the_signed_in_users_language(cast):
    StaffProfile.objects.filter(user=cast.viewer).update(language="it")
    client = ApiClient.as_user(cast.viewer)
    types = _types(client.get("/event-types", **{"Accept-Language": "en"}))
    assert types["ticket.created"]["description"] == "È stato aperto un ticket."
