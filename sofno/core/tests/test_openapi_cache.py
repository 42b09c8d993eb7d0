"""The OpenAPI document is built once per process, not on every request."""

from __future__ import annotations

import time

from django.test import Client

from sofno.api import api


def test_it_builds_the_openapi_document_once(db):
    first = api.get_openapi_schema(path_prefix="/api/")
    assert api.get_openapi_schema(path_prefix="/api/") is first
    assert api.get_openapi_schema(path_prefix="/other/") is not first


def test_it_serves_the_cached_document_quickly(db):
    client = Client()
    assert client.get("/api/openapi.json").status_code == 200  # warm
    started = time.perf_counter()
    answer = client.get("/api/openapi.json")
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200
    assert "/api/v1/customers" in answer.json()["paths"]
    assert elapsed < 0.5, f"served in {elapsed:.3f} s"
