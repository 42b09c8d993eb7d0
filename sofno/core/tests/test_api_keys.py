import hashlib

from sofno.core.models import ApiKey, AuditEntry


def _issue(api_client, cast, **body):
    response = api_client.as_user(cast.owner).post("/api-keys", {"name": "ci", **body})
    assert response.status_code == 201, response.content
    return response.json()


def test_it_returns_a_new_key_once_and_stores_only_its_hash(cast, api_client):
    created = _issue(api_client, cast)
    plain = created["key"]
    row = ApiKey.objects.get(public_id=created["id"])
    assert row.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    stored = [
        str(v) for v in ApiKey.objects.values_list("name", "prefix", "key_hash").get(pk=row.pk)
    ]
    assert all(plain not in value for value in stored)
    listed = api_client(cast.key).get(f"/api-keys/{created['id']}").json()
    assert "key" not in listed
    assert api_client(plain).get("/me").json()["organization"] == "acme"


def test_it_issues_read_only_keys_that_cannot_write(cast, api_client):
    plain = _issue(api_client, cast, read_only=True)["key"]
    assert api_client(plain).get("/me").json()["read_only"] is True
    response = api_client(plain).post("/api-keys", {"name": "more"})
    assert response.status_code == 403


def test_it_rejects_a_revoked_key(cast, api_client):
    created = _issue(api_client, cast)
    response = api_client(cast.key).delete(f"/api-keys/{created['id']}")
    assert response.status_code == 204
    assert ApiKey.objects.get(public_id=created["id"]).revoked_at is not None
    refused = api_client(created["key"]).get("/me")
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthorized"


def test_it_revokes_idempotently_and_audits_once(cast, api_client):
    created = _issue(api_client, cast)
    for _ in range(2):
        assert api_client(cast.key).delete(f"/api-keys/{created['id']}").status_code == 204
    actions = AuditEntry.objects.filter(object_id=created["id"]).values_list("action", flat=True)
    assert sorted(actions) == ["api_key.created", "api_key.revoked"]


def test_it_refuses_unknown_and_malformed_bearer_tokens(cast, api_client):
    for token in ["sk_not-a-key", "nonsense", cast.key + "x"]:
        response = api_client(token).get("/me")
        assert response.status_code == 401
    assert api_client(None).get("/me").status_code == 401


def test_it_lets_only_a_signed_in_admin_mint_keys(cast, api_client):
    by_key = api_client(cast.key).post("/api-keys", {"name": "chain"})
    assert by_key.status_code == 403
    assert by_key.json()["code"] == "person_only"
    for user in (cast.agent, cast.viewer):
        assert api_client.as_user(user).post("/api-keys", {"name": "x"}).status_code == 403
    assert ApiKey.objects.filter(name__in=["chain", "x"]).count() == 0


def test_it_lists_keys_for_admins_only(cast, api_client):
    listed = api_client(cast.key).get("/api-keys?revoked=false")
    assert listed.status_code == 200
    assert {k["name"] for k in listed.json()["items"]} == {"test key", "read-only key"}
    assert api_client(cast.readonly_key).get("/api-keys").status_code == 403
    assert api_client.as_user(cast.agent).get("/api-keys").status_code == 403
    assert api_client.as_user(cast.viewer).get("/api-keys").status_code == 403


def test_it_refuses_revocation_to_read_only_callers(cast, api_client):
    key = ApiKey.objects.get(organization=cast.org, name="test key")
    for client in (
        api_client(cast.readonly_key),
        api_client.as_user(cast.viewer),
        api_client.as_user(cast.agent),
    ):
        assert client.delete(f"/api-keys/{key.public_id}").status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


def test_it_hides_another_organizations_keys(cast, api_client):
    theirs = ApiKey.objects.get(organization=cast.other_org)
    assert api_client(cast.key).get(f"/api-keys/{theirs.public_id}").status_code == 404
    assert api_client(cast.key).delete(f"/api-keys/{theirs.public_id}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert api_client(cast.other_key).get("/me").status_code == 200


def test_it_validates_the_key_name(cast, api_client):
    owner = api_client.as_user(cast.owner)
    for body, rule in [
        ({"name": ""}, "string_too_short"),
        ({}, "missing"),
        ({"name": "x" * 101}, "string_too_long"),
        ({"name": "x", "read_only": "perhaps"}, "bool_parsing"),
    ]:
        response = owner.post("/api-keys", body)
        assert response.status_code == 422
        assert rule in {e["rule"] for e in response.json()["errors"]}


def test_it_answers_405_to_a_wrong_method(cast, api_client):
    assert api_client(cast.key).put("/api-keys", {"name": "x"}).status_code == 405
    key_id = ApiKey.objects.filter(organization=cast.org).first().public_id
    assert api_client(cast.key).post(f"/api-keys/{key_id}", {}).status_code == 405
