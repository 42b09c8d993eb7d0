"""The API of rules, templates (with preview), SMTP profiles and escalation policies."""

from __future__ import annotations

import pytest

from sofno.core.testing import field_errors
from sofno.directory.models import Customer
from sofno.events.emit import emit
from sofno.notify.models import NotificationRule, SmtpProfile, Template
from sofno.notify.routing import dispatcher
from sofno.notify.testing.helpers import owner

RULE = {
    "name": "Offline tills",
    "event_types": ["device.offline"],
    "recipients": [{"kind": "assigned_agents"}, {"kind": "role", "value": "admin"}],
    "channels": ["email", "sms"],
    "quiet_action": "next",
}


@pytest.fixture
def api(cast, api_client):
    return api_client(cast.key)


def test_it_creates_lists_changes_and_deletes_a_rule(cast, api):
    created = api.post("/notification-rules", RULE)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["scope"] == "organization" and body["quiet_action"] == "next"
    rule_id = body["id"]
    assert [r["id"] for r in api.get("/notification-rules").json()] == [rule_id]
    changed = api.patch(f"/notification-rules/{rule_id}", {"enabled": False, "channels": []})
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    assert api.delete(f"/notification-rules/{rule_id}").status_code == 204
    assert not NotificationRule.objects.exists()


def test_it_scopes_a_rule_to_a_customer_or_device(cast, api):
    customer = Customer.objects.create(organization=cast.org, name="Pizzeria Roma")
    body = {**RULE, "scope": "customer", "customer": str(customer.public_id)}
    created = api.post("/notification-rules", body)
    assert created.status_code == 201 and created.json()["customer"] == str(customer.public_id)
    missing = api.post("/notification-rules", {**RULE, "scope": "device"})
    assert missing.status_code == 422 and field_errors(missing) == {"device": "required"}
    other = Customer.objects.create(organization=cast.other_org, name="Globex Diner")
    theirs = api.post(
        "/notification-rules", {**RULE, "scope": "customer", "customer": str(other.public_id)}
    )
    assert theirs.status_code == 422 and field_errors(theirs) == {"customer": "unknown"}


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"event_types": ["no.such_type"]}, "event_types", "unknown"),
        ({"event_types": []}, "event_types", "too_short"),
        ({"channels": ["fax"]}, "channels.0", "literal_error"),
        ({"recipients": [{"kind": "user", "value": "nobody"}]}, "recipients.0.value", "unknown"),
        ({"recipients": [{"kind": "pigeons"}]}, "recipients.0.kind", "enum"),
        (
            {"conditions": [{"token": "a b", "op": "eq"}]},
            "conditions.0.token",
            "string_pattern_mismatch",
        ),
        ({"channels": ["apprise"]}, "apprise_urls", "required"),
        ({"apprise_urls": ["nosuch://x"]}, "apprise_urls.0", "apprise_url"),
        ({"quiet_action": "sleep"}, "quiet_action", "enum"),
        ({"surprise": 1}, "surprise", "extra_forbidden"),
    ],
)
def test_it_refuses_bad_rules_naming_the_field(cast, api, change, field, rule):
    response = api.post("/notification-rules", {**RULE, **change})
    assert response.status_code == 422
    assert field_errors(response).get(field) == rule, response.json()
    assert not NotificationRule.objects.exists()


def test_it_refuses_read_only_keys_other_organizations_and_wrong_methods(cast, api, api_client):
    rule_id = api.post("/notification-rules", RULE).json()["id"]
    readonly = api_client(cast.readonly_key)
    assert readonly.get(f"/notification-rules/{rule_id}").status_code == 200
    assert readonly.post("/notification-rules", RULE).status_code == 403
    assert readonly.delete(f"/notification-rules/{rule_id}").status_code == 403
    other = api_client(cast.other_key)
    assert other.get(f"/notification-rules/{rule_id}").status_code == 404
    assert other.patch(f"/notification-rules/{rule_id}", {"enabled": False}).status_code == 404
    assert api.put(f"/notification-rules/{rule_id}", RULE).status_code == 405
    assert NotificationRule.objects.get().enabled


TEMPLATE = {
    "name": "Offline",
    "event_type": "device.offline",
    "channel": "email",
    "language": "it",
    "subject": "{{ device_name }} non risponde",
    "html_body": "<p>{{ customer_name }}</p>",
    "text_body": "{{ device_name }}",
    "cc": ["desk@acme.test"],
}


def test_it_saves_a_template_and_reports_unknown_tokens_at_save_time(cast, api):
    created = api.post("/notification-templates", TEMPLATE)
    assert created.status_code == 201, created.json()
    assert created.json()["cc"] == ["desk@acme.test"]
    bad = api.post(
        "/notification-templates", {**TEMPLATE, "language": "es", "subject": "{{ devce_name }}"}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {
            "field": "subject",
            "rule": "unknown_token",
            "message": "unknown token 'devce_name' for device.offline",
        }
    ]
    duplicate = api.post("/notification-templates", TEMPLATE)
    assert duplicate.status_code == 422 and field_errors(duplicate) == {"language": "unique"}
    assert Template.objects.count() == 1


@pytest.mark.parametrize(
    "source",
    ["{{ ''.__class__.__mro__ }}", "{{ cycler.__init__.__globals__ }}", '{% include "x" %}'],
)
def test_it_refuses_sandbox_escapes_at_save_time(cast, api, source):
    response = api.post("/notification-templates", {**TEMPLATE, "text_body": source})
    assert response.status_code == 422
    assert "text_body" in field_errors(response)
    assert not Template.objects.exists()


def test_it_previews_a_template_with_a_sample_event(cast, api):
    response = api.post(
        "/notification-templates/preview",
        {
            "event_type": "ticket.status_changed",
            "subject": "#{{ ticket.number }} {{ status.name }}",
            "html_body": "<b>{{ customer.name }}</b>",
            "text_body": "{{ nope }}",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["subject"] == "#42 In progress"
    assert body["html"] == "<b>Trattoria Da Mario</b>"
    assert body["problems"][0]["rule"] == "unknown_token"
    assert body["sample"]["ticket"]["number"] == 42


def test_it_keeps_smtp_passwords_write_only_and_switches_the_default(cast, api):
    first = api.post(
        "/smtp-profiles",
        {
            "name": "Main",
            "host": "mail.acme.test",
            "from_address": "alerts@acme.test",
            "password": "pw1",
        },
    )
    assert first.status_code == 201
    assert first.json()["is_default"] is True and first.json()["has_password"] is True
    assert "password" not in first.json()
    stored = SmtpProfile.objects.get()
    assert "pw1" not in stored.password_encrypted
    assert stored.smtp_settings().password == "pw1"
    second = api.post(
        "/smtp-profiles",
        {
            "name": "Backup",
            "host": "smtp.example.net",
            "port": 587,
            "tls_mode": "starttls",
            "from_address": "b@acme.test",
        },
    )
    assert second.json()["is_default"] is False and second.json()["port"] == 587
    switched = api.post(f"/smtp-profiles/{second.json()['id']}/default")
    assert switched.status_code == 200 and switched.json()["is_default"] is True
    defaults = SmtpProfile.objects.filter(is_default=True).values_list("name", flat=True)
    assert list(defaults) == ["Backup"]
    bad = api.post("/smtp-profiles", {"name": "x", "host": "smtp://x", "from_address": "nope"})
    assert bad.status_code == 422
    assert field_errors(bad) == {"host": "hostname", "from_address": "email"}


def test_it_saves_escalation_policies(cast, api, api_client):
    body = {
        "name": "Tills",
        "repeat": 1,
        "steps": [
            {"recipients": [{"kind": "on_call"}], "channels": ["sms"], "wait_minutes": 5},
            {"recipients": [{"kind": "role", "value": "admin"}], "channels": ["voice"]},
        ],
    }
    created = api.post("/escalation-policies", body)
    assert created.status_code == 201 and len(created.json()["steps"]) == 2
    bad = api.post("/escalation-policies", {**body, "steps": []})
    assert bad.status_code == 422 and field_errors(bad) == {"steps": "too_short"}
    rule = api.post("/notification-rules", {**RULE, "escalation_policy": created.json()["id"]})
    assert rule.status_code == 201
    other = api_client(cast.other_key).get(f"/escalation-policies/{created.json()['id']}")
    assert other.status_code == 404


def test_it_says_why_an_event_notified_whom(cast, api, api_client):
    api.post("/notification-rules", {**RULE, "channels": []})
    event = emit(cast.org, "device.offline", "device:x", {"device_name": "Till 1"})
    while dispatcher.dispatch_organization(cast.org.pk):
        pass
    response = api.get(f"/events/{event.public_id}/routing")
    assert response.status_code == 200
    (evaluation,) = response.json()["evaluations"]
    assert evaluation["matched"] and evaluation["rule_name"] == "Offline tills"
    assert [d["recipient"] for d in response.json()["deliveries"]] == ["olivia"]
    assert api_client(cast.other_key).get(f"/events/{event.public_id}/routing").status_code == 404
    assert owner(cast).organization == cast.org
