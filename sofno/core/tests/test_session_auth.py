from django.contrib.auth import get_user_model
from django.middleware.csrf import get_token
from django.test import RequestFactory

from sofno.core.models import ApiKey


def _csrf_token(client) -> str:
    """A CSRF token bound to the client's session cookie, as a page would hold it."""
    request = RequestFactory().get("/")
    request.COOKIES = {k: v.value for k, v in client.cookies.items()}
    token = get_token(request)
    client.cookies["csrftoken"] = request.META["CSRF_COOKIE"]
    return token


def test_it_reads_with_the_session(cast, api_client):
    response = api_client.as_user(cast.viewer).get("/me")
    assert response.status_code == 200
    assert response.json() == {
        "organization": "acme",
        "organization_id": str(cast.org.public_id),
        "role": "viewer",
        "read_only": True,
    }


def test_it_refuses_a_session_write_without_the_csrf_token(cast, api_client):
    owner = api_client.as_user(cast.owner, enforce_csrf=True)
    response = owner.post("/api-keys", {"name": "forged"})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert not ApiKey.objects.filter(name="forged").exists()


def test_it_accepts_a_session_write_with_the_csrf_token(cast, api_client):
    owner = api_client.as_user(cast.owner, enforce_csrf=True)
    token = _csrf_token(owner.client)
    response = owner.post("/api-keys", {"name": "from the page"}, **{"X-CSRFToken": token})
    assert response.status_code == 201, response.content


def test_it_never_falls_back_to_the_session_when_a_key_is_sent(cast, api_client):
    owner = api_client.as_user(cast.owner)
    response = owner.get("/me", Authorization="Bearer sk_revoked-or-wrong")
    assert response.status_code == 401


def test_it_ignores_a_proxys_basic_auth_header(cast, api_client):
    response = api_client.as_user(cast.agent).get("/me", Authorization="Basic cHJveHk6cHc=")
    assert (response.status_code, response.json()["role"]) == (200, "agent")


def test_it_refuses_a_signed_in_user_without_membership(db, api_client):
    loner = get_user_model().objects.create_user("loner", password="pw-loner-123")
    assert api_client.as_user(loner).get("/me").status_code == 401
