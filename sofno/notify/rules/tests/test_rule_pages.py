"""The rule pages: list, create, edit, delete (administrators), read-only roles."""

from __future__ import annotations

from django.test import Client

from sofno.directory.models import Customer
from sofno.notify.models import NotificationRule


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


FORM = {
    "name": "Offline tills",
    "enabled": "on",
    "event_types": ["device.offline", "incident.alert"],
    "scope": "organization",
    "recipient_flags": ["assigned_agents", "on_call"],
    "roles": ["admin"],
    "channels": ["email", "sms"],
    "quiet_action": "defer",
    "condition_token": ["device_name"],
    "condition_op": ["contains"],
    "condition_value": ["Till"],
}


def test_it_creates_a_rule_from_the_page(cast):
    client = client_for(cast.owner)
    assert client.get("/notifications/rules/new").status_code == 200
    response = client.post("/notifications/rules/new", FORM)
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = NotificationRule.objects.get()
    assert rule.event_types == ["device.offline", "incident.alert"]
    assert rule.recipients == [
        {"kind": "assigned_agents"},
        {"kind": "on_call"},
        {"kind": "role", "value": ["admin"]},
    ]
    assert rule.conditions == [{"token": "device_name", "op": "contains", "value": "Till"}]
    page = client.get("/notifications/rules/").content.decode()
    assert "Offline tills" in page
    # Each type in words, its code beside it; a long description cut, whole in the tooltip.
    rows = page.split('id="rules"', 1)[1]
    assert "A device missed its check-in deadline." in rows and "device.offline</code>" in rows
    assert 'title="An incident is settled and worth a page' in rows
    assert "incident.alert</code>" in rows


def test_it_edits_and_deletes_a_rule(cast):
    customer = Customer.objects.create(organization=cast.org, name="Pizzeria Roma")
    client = client_for(cast.owner)
    client.post("/notifications/rules/new", FORM)
    rule = NotificationRule.objects.get()
    edit = client.get(f"/notifications/rules/{rule.public_id}/").content.decode()
    assert "device.offline" in edit
    changed = {**FORM, "scope": "customer", "customer": str(customer.public_id)}
    assert client.post(f"/notifications/rules/{rule.public_id}/", changed).status_code == 302
    rule.refresh_from_db()
    assert rule.scope == "customer" and rule.customer == customer
    assert client.post(f"/notifications/rules/{rule.public_id}/delete").status_code == 302
    assert not NotificationRule.objects.exists()


def test_it_shows_errors_naming_the_field(cast):
    client = client_for(cast.owner)
    response = client.post("/notifications/rules/new", {**FORM, "scope": "device"})
    assert response.status_code == 200
    assert "a device rule needs a device" in response.content.decode()
    assert not NotificationRule.objects.exists()


def test_only_administrators_change_rules(cast):
    client_for(cast.owner).post("/notifications/rules/new", FORM)
    rule = NotificationRule.objects.get()
    for user in (cast.agent, cast.viewer):
        client = client_for(user)
        assert client.get("/notifications/rules/").status_code == 200
        assert client.post("/notifications/rules/new", FORM).status_code == 403
        assert client.post(f"/notifications/rules/{rule.public_id}/delete").status_code == 403
    outsider = client_for(cast.outsider)
    assert outsider.get(f"/notifications/rules/{rule.public_id}/").status_code == 404
    assert "Offline tills" not in outsider.get("/notifications/rules/").content.decode()
    assert (
        client_for(cast.owner).get(f"/notifications/rules/{rule.public_id}/delete").status_code
        == 405
    )
    assert NotificationRule.objects.count() == 1


TEMPLATE_FORM = {
    "name": "Offline (it)",
    "event_type": "device.offline",
    "channel": "email",
    "language": "it",
    "subject": "{{ device_name }} non risponde",
    "text_body": "{{ customer_name }}",
    "html_body": "<b>{{ device_name }}</b>",
    "cc": "desk@acme.test, boss@acme.test",
    "bcc": "",
    "smtp_profile": "",
}


def test_it_saves_a_template_from_the_page_and_refuses_unknown_tokens(cast):
    from sofno.notify.models import Template

    client = client_for(cast.owner)
    assert client.get("/notifications/templates/new").status_code == 200
    bad = client.post("/notifications/templates/new", {**TEMPLATE_FORM, "subject": "{{ nope }}"})
    assert bad.status_code == 200
    assert "unknown token &#x27;nope&#x27; for device.offline" in bad.content.decode()
    assert not Template.objects.exists()
    assert client.post("/notifications/templates/new", TEMPLATE_FORM).status_code == 302
    template = Template.objects.get()
    assert template.cc == ["desk@acme.test", "boss@acme.test"]
    listed = client.get("/notifications/templates/").content.decode()
    assert "Offline (it)" in listed
    # The channel and language in words, never their stored codes.
    assert "<td>Email</td><td>Italian</td>" in listed
    assert (
        client_for(cast.agent).post("/notifications/templates/new", TEMPLATE_FORM).status_code
        == 403
    )
    outsider = client_for(cast.outsider)
    assert outsider.get(f"/notifications/templates/{template.public_id}/").status_code == 404
    delete = f"/notifications/templates/{template.public_id}/delete"
    assert client.get(delete).status_code == 405
    assert client.post(delete).status_code == 302
    assert not Template.objects.exists()
