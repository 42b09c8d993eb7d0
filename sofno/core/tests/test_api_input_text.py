"""Text no database can store (NUL, lone surrogates) and null where a value is required:
a 422 naming the field on every endpoint, never a 500 or a 409."""

import pytest

from sofno.core.testing import field_errors
from sofno.directory.models import Customer


def _raw(client, method: str, path: str, body: str):
    return client.client.generic(
        method, "/api/v1" + path, data=body, content_type="application/json", headers=client.headers
    )


@pytest.fixture
def shop(cast):
    return Customer.objects.create(organization=cast.org, name="Shop")


@pytest.mark.parametrize("text", ["\\ud800", "a\\udfffb", "\\u0000"])
def test_it_refuses_unstorable_text_as_a_ticket_status(cast, api_client, shop, text):
    api = api_client(cast.key)
    body = f'{{"customer": "{shop.public_id}", "title": "Printer", "status": "{text}"}}'
    response = _raw(api, "POST", "/tickets", body)
    assert response.status_code == 422, response.content
    assert "status" in field_errors(response)
    ticket = api.post("/tickets", {"customer": str(shop.public_id), "title": "Printer"}).json()
    changed = _raw(api, "POST", f"/tickets/{ticket['id']}/status", f'{{"status": "{text}"}}')
    assert changed.status_code == 422, changed.content
    assert "status" in field_errors(changed)


def test_it_refuses_unstorable_text_deep_inside_a_body(cast, api_client):
    api = api_client(cast.key)
    body = '{"type": "invoice.sent", "data": {"lines": [{"note": "x\\ud83d"}]}}'
    response = _raw(api, "POST", "/events", body)
    assert response.status_code == 422, response.content
    assert field_errors(response) == {"data.lines.0.note": "string_unicode"}


def test_it_refuses_nul_in_a_query_parameter(cast, api_client):
    response = api_client(cast.key).get("/tickets?q=a%00b")
    assert response.status_code == 422, response.content
    assert field_errors(response) == {"q": "nul_character"}


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("patch", "/ticket-statuses/op%00en", "slug"),
        ("delete", "/event-types/a%00b", "name"),
        ("get", "/api-keys/%00", "key_id"),
    ],
)
def test_it_answers_422_for_nul_in_a_path_parameter(cast, api_client, method, path, field):
    api = api_client(cast.key)
    response = api.call(method.upper(), path, {"name": "x"} if method == "patch" else None)
    assert response.status_code == 422
    assert field_errors(response) == {field: "nul_character"}


def test_a_page_path_with_nul_is_not_found(client):
    assert client.get("/oncall/feeds/a%00b.ics").status_code == 404
