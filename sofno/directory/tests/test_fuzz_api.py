"""Arbitrary JSON thrown at every write endpoint never gets a 5xx, and every
refusal uses the API's error shape.

Each case starts from a body the endpoint accepts and breaks one field (or drops
it), so the fuzzer gets past the first validation error and reaches the database.
"""

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sofno.directory.models import ContactType

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["", "service", "+390612345678", "Europe/Rome", "IT", "09:00", "24:00"])
    | st.uuids().map(str)
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
RANGE = st.fixed_dictionaries(
    {
        "day": st.integers(-2, 9),
        "start": st.sampled_from(["00:00", "09:00", "13:30", "25:00"]),
        "end": st.sampled_from(["09:00", "12:00", "24:00", "9"]),
    }
)
WINDOWS = st.fixed_dictionaries({"ranges": st.lists(RANGE, max_size=4)})
# Inputs that broke real services before: NUL (PostgreSQL refuses it), lone
# surrogates, numbers beyond 64 bits, huge strings, look-alike digits.
NASTY = st.sampled_from(
    ["a\x00b", "\ud800", "9" * 400, 10**30, -(2**63) - 1, 1e308, "x" * 20_000, "٣٣", "\u202e"]
)
VALUES = NASTY | st.text(max_size=40) | JSON | WINDOWS

FIELDS = {
    "customers": [
        "name",
        "address",
        "city",
        "region",
        "country",
        "timezone",
        "email",
        "notes",
        "active",
        "alerts_enabled",
        "refusal_message",
        "assigned_agents",
        "business_hours",
    ],
    "contacts": [
        "customer",
        "name",
        "email",
        "phone",
        "contact_type",
        "is_primary",
        "notes",
        "reachable_hours",
    ],
    "contact-types": ["slug", "name"],
    "members": ["username", "email", "first_name", "last_name", "password", "role", "customer"],
    "me/profile": ["phone", "timezone", "language", "quiet_hours"],
    "api-keys": ["name", "read_only"],
}
CASES = [(kind, field) for kind, fields in sorted(FIELDS.items()) for field in fields]
FUZZ = settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _valid(kind: str, site) -> dict:
    """A body the endpoint accepts."""
    customer = str(site.customer.public_id)
    return {
        "customers": {
            "name": "Fuzz Diner",
            "country": "IT",
            "timezone": "Europe/Rome",
            "business_hours": {"ranges": [{"day": 0, "start": "09:00", "end": "12:00"}]},
        },
        "contacts": {
            "customer": customer,
            "name": "Fuzz",
            "contact_type": "billing",
            "phone": "+390612345678",
        },
        "contact-types": {"slug": "fuzz", "name": "Fuzz"},
        "members": {"username": "fuzzer", "role": "customer", "customer": customer},
        "me/profile": {"phone": "+390612345678", "timezone": "Europe/Rome", "language": "it"},
        "api-keys": {"name": "fuzz"},
    }[kind]


def _bodies(field: str, valid: dict):
    """The valid body with ``field`` replaced or dropped, or arbitrary JSON."""
    replaced = VALUES.map(lambda value: {**valid, field: value})
    dropped = st.just({k: v for k, v in valid.items() if k != field})
    return replaced | dropped | JSON


def _check(response):
    assert response.status_code < 500, response.content
    if response.status_code >= 400 and response.status_code != 405:
        body = response.json()
        assert set(body) == {"code", "message", "errors"}
        assert all(set(err) == {"field", "rule", "message"} for err in body["errors"])


@pytest.mark.parametrize(("kind", "field"), CASES)
def test_it_never_answers_5xx_to_arbitrary_json(kind, field, cast, api_client, acme_site):
    owner = api_client.as_user(cast.owner)
    billing = ContactType.objects.get(organization=cast.org, slug="billing")
    targets = {
        "customers": f"/customers/{acme_site.customer.public_id}",
        "contacts": f"/contacts/{acme_site.contact.public_id}",
        "contact-types": f"/contact-types/{billing.public_id}",
        "members": f"/members/{cast.viewer.memberships.get().public_id}",
        "me/profile": "/me/profile",
    }

    @FUZZ
    @given(body=_bodies(field, _valid(kind, acme_site)))
    def run(body):
        if kind != "me/profile":
            _check(owner.post(f"/{kind}", body))
        if kind in targets:
            _check(owner.patch(targets[kind], body))

    run()


@pytest.mark.parametrize(
    "path", ["/customers", "/contacts", "/members", "/contact-types", "/api-keys"]
)
def test_it_never_answers_5xx_to_arbitrary_query_strings(path, cast, api_client):
    client = api_client(cast.key)
    params = [
        "q",
        "limit",
        "offset",
        "city",
        "country",
        "active",
        "customer",
        "contact_type",
        "is_primary",
        "role",
        "revoked",
        "alerts_enabled",
    ]
    values = NASTY.map(str) | st.text(max_size=40) | st.integers().map(str)

    @FUZZ
    @given(query=st.dictionaries(st.sampled_from(params), values))
    def run(query):
        # A lone surrogate goes out as the invalid UTF-8 bytes a hostile client would send.
        _check(client.get(f"{path}?{urlencode(query, errors='surrogatepass')}"))

    run()
