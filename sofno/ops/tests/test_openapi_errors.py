"""The OpenAPI document lists the error answers every operation can give."""

import pytest


@pytest.fixture
def document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def _codes(document, path: str, method: str) -> set[str]:
    return set(document["paths"][path][method]["responses"])


def test_it_documents_rate_limits_and_auth_on_every_operation(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "429" in codes, f"{method.upper()} {path}"
            if operation.get("security"):
                assert "401" in codes, f"{method.upper()} {path}"


def test_it_documents_body_errors_only_where_there_is_a_body(document):
    assert {"400", "413", "422"} <= _codes(document, "/api/v1/events", "post")
    assert not {"400", "413"} & _codes(document, "/api/v1/me", "get")


def test_it_points_the_errors_at_the_error_shape(document):
    answer = document["paths"]["/api/v1/events"]["post"]["responses"]["429"]
    schema = answer["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ErrorOut"}
    assert {"code", "message", "errors"} <= set(
        document["components"]["schemas"]["ErrorOut"]["properties"]
    )
