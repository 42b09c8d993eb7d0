"""Text no database can store (NUL, lone surrogates) and null where a value is required:
a 422 naming the field on every endpoint, never a 500 or a 409."""

import re

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


# --- null in partial updates ------------------------------------------------------------


def _patch_operations():
    """Every PATCH operation of the OpenAPI document with its body's properties."""
    from sofno.api import api

    document = api.get_openapi_schema()
    components = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        operation = operations.get("patch")
        if not operation:
            continue
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = components[ref.rsplit("/", 1)[1]]
        yield path, schema["properties"]


def _admits_null(prop: dict) -> bool:
    variants = prop.get("anyOf", [prop])
    return any(v.get("type") == "null" for v in variants)


PATCH_FIELDS = [
    (path, name, _admits_null(prop))
    for path, properties in _patch_operations()
    for name, prop in properties.items()
]


def test_every_patch_operation_is_checked():
    assert len({path for path, _name, _nullable in PATCH_FIELDS}) >= 15


@pytest.mark.parametrize(("path", "field", "nullable"), PATCH_FIELDS)
def test_null_in_a_patch_answers_422_unless_documented_as_clearing(
    cast, api_client, path, field, nullable
):
    # Body validation comes before any lookup, so a made-up id serves every path.
    url = path.removeprefix("/api/v1")
    for param in ("{name}", "{slug}"):
        url = url.replace(param, "nothing-here")
    url = re.sub(r"\{[a-z_]+\}", "00000000-0000-0000-0000-000000000000", url)
    response = api_client(cast.key).patch(url, {field: None})
    assert response.status_code < 500, response.content
    if nullable:
        assert response.status_code != 422 or field not in field_errors(response)
    else:
        assert response.status_code == 422, response.content
        assert field_errors(response) == {field: "null"}


def test_it_refuses_null_event_types_on_a_consumer_and_keeps_them(cast, api_client):
    api = api_client(cast.key)
    consumer = api.post("/consumers", {"name": "warehouse", "event_types": ["customer.*"]}).json()
    response = api.patch(f"/consumers/{consumer['id']}", {"event_types": None})
    assert response.status_code == 422
    assert field_errors(response) == {"event_types": "null"}
    assert api.get(f"/consumers/{consumer['id']}").json()["event_types"] == ["customer.*"]


@pytest.mark.parametrize(
    "field", ["url", "headers", "parameters", "event_types", "description", "enabled"]
)
def test_it_refuses_null_in_a_webhook_patch_and_keeps_the_endpoint(cast, api_client, field):
    api = api_client(cast.key)
    body = {"url": "https://example.com/hook", "headers": {"X-A": "1"}}
    endpoint = api.post("/webhooks", body).json()
    response = api.patch(f"/webhooks/{endpoint['id']}", {field: None})
    assert response.status_code == 422
    assert field_errors(response) == {field: "null"}
    kept = api.get(f"/webhooks/{endpoint['id']}").json()
    assert kept["url"] == "https://example.com/hook" and kept["headers"] == {"X-A": "1"}


def test_it_clears_a_webhook_rate_limit_with_null(cast, api_client):
    api = api_client(cast.key)
    body = {"url": "https://example.com/hook", "rate_limit": 5}
    endpoint = api.post("/webhooks", body).json()
    response = api.patch(f"/webhooks/{endpoint['id']}", {"rate_limit": None})
    assert response.status_code == 200, response.content
    assert response.json()["rate_limit"] is None
