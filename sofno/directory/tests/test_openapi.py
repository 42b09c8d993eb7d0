def test_it_documents_the_directory_endpoints(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/contacts/{contact_id}",
        "/api/v1/contact-types/{type_id}",
        "/api/v1/members/{member_id}",
        "/api/v1/me/profile",
        "/api/v1/api-keys/{key_id}",
    ]:
        assert path in paths
    assert "patch" in paths["/api/v1/members/{member_id}"]
