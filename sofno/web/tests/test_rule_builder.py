"""The rule builder: event types from the catalog, the organization's ticket statuses,
condition rows stored as the API stores them, and the preview of who would have been
notified for the latest matching event."""

from __future__ import annotations

from django.test import Client

from sofno.core.models import Membership
from sofno.events.emit import emit
from sofno.events.models import CustomEventType
from sofno.notify.models import Delivery, NotificationRule, RuleEvaluation
from sofno.tickets.models import TicketStatus


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def membership(user, org) -> str:
    return str(Membership.objects.get(user=user, organization=org).public_id)


def form(**changes) -> dict:
    data = {
        "name": "Urgent tickets",
        "enabled": "on",
        "event_types": ["ticket.created"],
        "scope": "organization",
        "channels": ["email"],
        "quiet_action": "through",
        "condition_token": ["ticket.priority"],
        "condition_op": ["eq"],
        "condition_value": ["urgent"],
    }
    data.update(changes)
    return data


def test_it_offers_catalog_and_custom_types_and_the_organizations_statuses(cast):
    CustomEventType.objects.create(
        organization=cast.org, name="invoice.overdue", description="An invoice is overdue."
    )
    CustomEventType.objects.create(
        organization=cast.other_org, name="globex.secret", description="Not ours."
    )
    TicketStatus.objects.create(organization=cast.org, slug="parts", name="Waiting for parts")
    TicketStatus.objects.create(organization=cast.other_org, slug="hidden", name="Globex only")
    page = client_for(cast.owner).get("/notifications/rules/new").content.decode()
    assert 'value="device.offline"' in page and 'value="ticket.*"' in page
    assert 'value="invoice.overdue"' in page and "An invoice is overdue." in page
    assert "globex.secret" not in page
    assert '<option value="parts">Waiting for parts</option>' in page
    assert "Globex only" not in page
    assert "ticket.priority" in page  # the builder's data: the tokens of each type
    assert 'id="id_open_ticket_after_minutes"' in page


def test_it_stores_builder_rows_as_the_api_stores_conditions(cast):
    TicketStatus.objects.create(organization=cast.org, slug="parts", name="Parts")
    data = form(
        event_types=["ticket.status_changed"],
        ticket_status_to="parts",
        condition_token=["ticket.priority", "status.is_open", "ticket.number", ""],
        condition_op=["in", "eq", "gte", "eq"],
        condition_value=["high, urgent", "yes", "10", ""],
        open_ticket_after_minutes="30",
    )
    response = client_for(cast.owner).post("/notifications/rules/new", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = NotificationRule.objects.get()
    assert rule.conditions == [
        {"token": "ticket.priority", "op": "in", "value": ["high", "urgent"]},
        {"token": "status.is_open", "op": "eq", "value": True},
        {"token": "ticket.number", "op": "gte", "value": 10},
    ]
    assert rule.ticket_status_to == "parts"
    assert rule.open_ticket_after_minutes == 30
    # Editing shows the rows again, in words, and saving unchanged keeps them.
    client = client_for(cast.owner)
    edit = client.get(f"/notifications/rules/{rule.public_id}/").content.decode()
    assert 'value="high, urgent"' in edit
    data.pop("condition_value")
    data["condition_value"] = ["high, urgent", "yes", "10", ""]
    assert client.post(f"/notifications/rules/{rule.public_id}/", data).status_code == 302
    rule.refresh_from_db()
    assert rule.conditions[2] == {"token": "ticket.number", "op": "gte", "value": 10}


def test_it_names_the_bad_condition_row_instead_of_failing(cast):
    client = client_for(cast.owner)
    bad = form(
        condition_token=["ticket.priority", "device_name"],
        condition_op=["eq", "eq"],
        condition_value=["urgent", "Till"],
    )
    response = client.post("/notifications/rules/new", bad)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Condition 2: device_name is not a field of the chosen event types." in page
    missing = client.post(
        "/notifications/rules/new",
        form(condition_token=["ticket.number"], condition_op=["gte"], condition_value=["lots"]),
    )
    assert "Condition 1: write a number." in missing.content.decode()
    assert not NotificationRule.objects.exists()


def _ticket_event(org, priority: str, number: int):
    return emit(
        org,
        "ticket.created",
        f"ticket:{number}",
        {"ticket": {"number": number, "priority": priority}, "technicians": []},
    )


def test_it_previews_who_the_latest_matching_event_would_have_reached(cast):
    cast.agent.first_name, cast.agent.last_name = "Adam", "Smith"
    cast.agent.save()
    _ticket_event(cast.org, "urgent", 7)
    _ticket_event(cast.org, "low", 8)  # newer, but the condition leaves it out
    _ticket_event(cast.other_org, "urgent", 9)  # another organization's: never used
    # (a ticket.created writes the tickets' always-on rules: those were there before)
    rules = list(NotificationRule.objects.values_list("pk", flat=True))
    data = form(users=[membership(cast.agent, cast.org)], name="", preview="1")
    response = client_for(cast.owner).post("/notifications/rules/new", data)
    assert response.status_code == 200
    page = response.content.decode()
    preview = page[page.index('id="rule-preview"') :]
    assert "Adam Smith" in preview and "Email" in preview
    event = response.context["preview"].event
    assert event.organization == cast.org and event.payload["ticket"]["number"] == 7
    # Nothing was written: no rule, no delivery, no evaluation.
    assert list(NotificationRule.objects.values_list("pk", flat=True)) == rules
    assert not Delivery.objects.exists() and not RuleEvaluation.objects.exists()


def test_it_never_previews_with_another_organizations_events(cast):
    _ticket_event(cast.other_org, "urgent", 9)
    response = client_for(cast.owner).post(
        "/notifications/rules/new", form(users=[membership(cast.agent, cast.org)], preview="1")
    )
    assert response.context["preview"].event is None
    assert "No event in the log matches this rule yet." in response.content.decode()


def test_it_lets_only_administrators_save_or_preview(cast):
    for user in (cast.viewer, cast.agent):
        client = client_for(user)
        assert client.get("/notifications/rules/new").status_code == 403
        assert client.post("/notifications/rules/new", form()).status_code == 403
        assert client.post("/notifications/rules/new", form(preview="1")).status_code == 403
    assert not NotificationRule.objects.exists()


def test_it_says_in_words_what_the_alert_policy_would_have_held(cast):
    from sofno.directory.models import Customer

    roma = Customer.objects.create(organization=cast.org, name="Pizzeria Roma")
    Customer.objects.filter(pk=roma.pk).update(alerts_enabled=False)
    emit(
        cast.org,
        "device.offline",
        "device:till",
        {"customer_id": str(roma.public_id), "customer_name": roma.name, "device_name": "Till"},
    )
    data = form(
        event_types=["device.offline"],
        condition_token=["device_name"],
        condition_op=["contains"],
        condition_value=["till"],
        users=[membership(cast.agent, cast.org)],
        preview="1",
    )
    page = client_for(cast.owner).post("/notifications/rules/new", data).content.decode()
    held = page[page.index('id="rule-preview-held"') :]
    assert "Held by the alert policy: The customer&#x27;s alerts are turned off" in held
    assert not Delivery.objects.exists()
