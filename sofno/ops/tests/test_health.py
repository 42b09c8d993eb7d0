import pytest


def test_it_answers_healthz_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_it_reports_ready_when_database_and_queue_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "queue"}
    assert all(check["ok"] for check in body["checks"].values())


def test_it_refuses_other_methods_on_health_endpoints(client):
    assert client.post("/healthz").status_code == 405
