"""A database outage answers 503 with Retry-After, not a 500.

The end-to-end outage (a real PostgreSQL restart) is in test_faults.py; here the
middleware's decision is checked with the exceptions Django raises then.
"""

import json

from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from sofno.ops.middleware import AbuseLimitMiddleware


def middleware() -> AbuseLimitMiddleware:
    return AbuseLimitMiddleware(lambda request: None)


def test_it_answers_503_when_the_database_is_gone():
    request = RequestFactory().get("/api/v1/customers")
    for error in (OperationalError("server closed the connection"), InterfaceError("closed")):
        response = middleware().process_exception(request, error)
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert json.loads(response.content)["code"] == "unavailable"


def test_it_leaves_other_errors_to_be_500s():
    request = RequestFactory().get("/api/v1/customers")
    assert middleware().process_exception(request, ValueError("a bug")) is None


def test_a_refused_action_on_a_page_answers_403_not_500():
    from sofno.core.access import PermissionDenied

    request = RequestFactory().post("/tickets/new/")
    refused = PermissionDenied("read_only", "This role or key may only read.")
    response = middleware().process_exception(request, refused)
    assert response.status_code == 403
    assert b"may only read" in response.content
