"""The API's error shape for malformed input: never a 500."""

import pytest

from sofno.core.testing import field_errors


def _raw_post(client, path: str, body: bytes | str, content_type="application/json"):
    return client.client.generic(
        "POST", "/api/v1" + path, data=body, content_type=content_type, headers=client.headers
    )


@pytest.mark.parametrize(
    "body", ["{bad", "[" * 50_000, b"\xff\xfe\x00", '{"name": "x"} trailing', "name=x"]
)
def test_it_answers_400_naming_the_body_for_unparsable_json(cast, api_client, body):
    owner = api_client.as_user(cast.owner)
    response = _raw_post(owner, "/api-keys", body)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert field_errors(response) == {"body": "json_invalid"}


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"name": "a\x00b"}, "name", "nul_character"),
        ({"name": 12}, "name", "string_type"),
        ({"name": ["x"]}, "name", "string_type"),
        ({"name": "x", "read_only": 10**40}, "read_only", "bool_type"),
        ({"name": "x", "surprise": True}, "surprise", "extra_forbidden"),
    ],
)
def test_it_answers_422_naming_field_and_rule(cast, api_client, body, field, rule):
    response = api_client.as_user(cast.owner).post("/api-keys", body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["code"] == "validation_error"
    assert field_errors(response)[field] == rule
    assert field in payload["message"]


def test_it_refuses_lone_surrogates(cast, api_client):
    response = _raw_post(api_client.as_user(cast.owner), "/api-keys", '{"name": "\\ud800"}')
    assert response.status_code == 422
    assert field_errors(response) == {"name": "string_unicode"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=100000000000000000000000", "limit"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("offset=9223372036854775808", "offset"),
        ("limit=ten", "limit"),
        ("revoked=perhaps", "revoked"),
    ],
)
def test_it_bounds_pagination_and_filters(cast, api_client, query, field):
    response = api_client(cast.key).get(f"/api-keys?{query}")
    assert response.status_code == 422
    assert field in field_errors(response)


def test_it_paginates_with_limit_and_offset(cast, api_client):
    first = api_client(cast.key).get("/api-keys?limit=1").json()
    second = api_client(cast.key).get("/api-keys?limit=1&offset=1").json()
    assert first["count"] == second["count"] == 2
    assert first["items"][0]["id"] != second["items"][0]["id"]
    assert api_client(cast.key).get("/api-keys?offset=1000000000").json()["items"] == []


@pytest.mark.parametrize("key_id", ["not-a-uuid", "1", "' OR 1=1 --"])
def test_it_answers_422_for_a_malformed_id_in_the_path(cast, api_client, key_id):
    response = api_client(cast.key).get(f"/api-keys/{key_id}")
    assert response.status_code == 422
    assert field_errors(response) == {"key_id": "uuid_parsing"}


def test_it_answers_404_in_the_error_shape_for_an_unknown_id(cast, api_client):
    response = api_client(cast.key).get("/api-keys/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "errors": []}
