import pytest

from sofno.core.models import AuditEntry
from sofno.core.testing import field_errors
from sofno.directory.models import StaffProfile

QUIET = {
    "ranges": [
        {"day": 0, "start": "22:00", "end": "24:00"},
        {"day": 1, "start": "00:00", "end": "07:00"},
    ]
}


def test_it_reads_and_changes_your_own_profile(cast, api_client):
    client = api_client.as_user(cast.viewer)
    assert client.get("/me/profile").json() == {
        "username": "vera",
        "phone": "",
        "timezone": "UTC",
        "language": "en",
        "quiet_hours": {"ranges": []},
    }
    changed = client.patch(
        "/me/profile",
        {
            "phone": "+39 333 123 4567",
            "timezone": "Europe/Rome",
            "language": "it",
            "quiet_hours": QUIET,
        },
    )
    assert changed.status_code == 200, changed.content
    assert changed.json() == {
        "username": "vera",
        "phone": "+393331234567",
        "timezone": "Europe/Rome",
        "language": "it",
        "quiet_hours": QUIET,
    }
    assert StaffProfile.objects.get(user=cast.viewer).quiet() is not None
    assert AuditEntry.objects.filter(action="profile.updated", actor_user=cast.viewer).exists()
    assert client.patch("/me/profile", {"phone": ""}).json()["phone"] == ""


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"phone": "333 123 4567"}, "phone", "phone"),
        ({"phone": "+39 12"}, "phone", "phone"),
        ({"timezone": "Moon/Tranquility"}, "timezone", "timezone"),
        ({"language": "klingon"}, "language", "enum"),
        (
            {"quiet_hours": {"ranges": [{"day": 0, "start": "23:00", "end": "07:00"}]}},
            "quiet_hours.ranges.0",
            "inverted_range",
        ),
        (
            {
                "quiet_hours": {
                    "ranges": [
                        {"day": 3, "start": "12:00", "end": "14:00"},
                        {"day": 3, "start": "13:00", "end": "15:00"},
                    ]
                }
            },
            "quiet_hours",
            "overlapping_ranges",
        ),
        ({"timezone": None}, "timezone", "null"),
    ],
)
def test_it_rejects_invalid_profile_fields(cast, api_client, body, field, rule):
    response = api_client.as_user(cast.agent).patch("/me/profile", body)
    assert response.status_code == 422
    assert field_errors(response) == {field: rule}
    cast.agent.staff_profile.refresh_from_db()
    assert (cast.agent.staff_profile.phone, cast.agent.staff_profile.timezone) == ("", "UTC")


def test_it_has_no_profile_for_an_api_key(cast, api_client):
    for method in ("get", "patch"):
        response = api_client(cast.key).call(method.upper(), "/me/profile", {})
        assert (response.status_code, response.json()["code"]) == (403, "person_only")


def test_it_answers_405_to_a_wrong_method(cast, api_client):
    assert api_client.as_user(cast.agent).post("/me/profile", {}).status_code == 405
