"""Settings > Tickets > Notifications: managed rules, exact emails and pushes (real SMTP)."""

from __future__ import annotations

import pytest

from sofno.core.access import Actor
from sofno.core.models import Role
from sofno.core.testing import make_user
from sofno.directory.models import Contact, ContactType, Customer
from sofno.events.models import Event
from sofno.notify.channels.email.smtp import POOL
from sofno.notify.delivery import machinery
from sofno.notify.models import Delivery, InboxItem, NotificationRule
from sofno.notify.routing import dispatcher
from sofno.notify.rules.actions import update_rule
from sofno.tickets import actions
from sofno.tickets.models import TicketSettings, TicketStatus

TOGGLES = ("email_admins", "email_customer", "email_technicians", "push_admins", "push_technicians")
PUSH = ("inapp", "webpush")


@pytest.fixture
def shop(cast):
    """A customer whose primary service contact is Carla; others must not be mailed."""
    shop = Customer.objects.create(organization=cast.org, name="Shop")
    types = {t.slug: t for t in ContactType.objects.filter(organization=cast.org)}
    Contact.objects.create(
        organization=cast.org,
        customer=shop,
        name="Carla",
        email="carla@shop.test",
        contact_type=types["service"],
        is_primary=True,
    )
    Contact.objects.create(
        organization=cast.org,
        customer=shop,
        name="Sam",
        email="sam@shop.test",
        contact_type=types["service"],
    )
    Contact.objects.create(
        organization=cast.org,
        customer=shop,
        name="Bill",
        email="bill@shop.test",
        contact_type=types["billing"],
        is_primary=True,
    )
    return shop


@pytest.fixture
def alice(cast):
    """A member with the admin role (the owner counts as an admin too)."""
    return make_user("alice", cast.org, Role.ADMIN)


def owner(cast) -> Actor:
    return Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)


def route() -> None:
    from sofno.core.models import Organization

    for org in Organization.objects.all():
        while dispatcher.dispatch_organization(org.pk):
            pass


def settle() -> None:
    route()
    machinery.deliver_all(max_seconds=10)
    POOL.close_all()


def only(cast, slug: str, toggle: str | None, notify: bool = True) -> None:
    """Notify on ``slug`` with just ``toggle``; every other status and toggle off."""
    toggles = {
        status.slug: {"notify": False, **dict.fromkeys(TOGGLES, False)}
        for status in TicketStatus.objects.filter(organization=cast.org)
    }
    toggles[slug]["notify"] = notify
    if toggle:
        toggles[slug][toggle] = True
    actions.save_notification_settings(acting_user=owner(cast), toggles=toggles)


def sent(event: Event, smtp) -> tuple[list[str], list[tuple[str, str]]]:
    """(addresses the SMTP server received, pushes as (channel, username)) for ``event``."""
    emails = sorted(
        Delivery.objects.filter(event=event, channel="email").values_list("address", flat=True)
    )
    received = sorted(to for message in smtp.messages for to in message.rcpt_tos)
    assert received == emails  # what was planned really arrived, and nothing else
    pushes = sorted(
        Delivery.objects.filter(event=event, channel__in=PUSH).values_list(
            "channel", "recipient_user__username"
        )
    )
    return emails, pushes


def push(*usernames: str) -> list[tuple[str, str]]:
    return sorted((channel, name) for name in usernames for channel in PUSH)


EXPECTED = {
    "email_admins": (["alice@example.com", "olivia@example.com"], []),
    "email_customer": (["carla@shop.test"], []),
    "email_technicians": (["adam@example.com"], []),
    "push_admins": ([], push("alice", "olivia")),
    "push_technicians": ([], push("adam")),
}


@pytest.mark.parametrize("toggle", TOGGLES)
def test_it_sends_exactly_what_a_toggle_says_on_a_status_change(cast, smtp, shop, alice, toggle):
    only(cast, "in-progress", toggle)
    ticket = actions.create_ticket(
        acting_user=owner(cast), customer=shop, title="Till jams", technicians=[cast.agent]
    )
    settle()  # creation in "open" (which does not notify) and the assignment push
    assert smtp.messages == []
    smtp.messages.clear()

    actions.change_status(
        acting_user=owner(cast),
        ticket=ticket,
        status=TicketStatus.objects.get(organization=cast.org, slug="in-progress"),
    )
    settle()
    event = Event.objects.get(type="ticket.status_changed")
    assert sent(event, smtp) == EXPECTED[toggle]


@pytest.mark.parametrize("toggle", TOGGLES)
def test_it_sends_exactly_what_a_toggle_says_on_creation_in_the_status(
    cast, smtp, shop, alice, toggle
):
    only(cast, "waiting", toggle)
    actions.create_ticket(
        acting_user=owner(cast),
        customer=shop,
        title="Till jams",
        status=TicketStatus.objects.get(organization=cast.org, slug="waiting"),
        technicians=[cast.agent],
    )
    settle()
    created = Event.objects.get(type="ticket.created")
    assert sent(created, smtp) == EXPECTED[toggle]
    # The assignment push went to the technician too, on its own event.
    assigned = Event.objects.get(type="ticket.assigned")
    assert list(Delivery.objects.filter(event=assigned).exclude(channel__in=PUSH)) == []
    assert sorted(
        Delivery.objects.filter(event=assigned).values_list("channel", "recipient_user__username")
    ) == push("adam")


def test_it_sends_nothing_for_an_unticked_status_or_notify_off(cast, smtp, shop, alice):
    only(cast, "in-progress", "email_admins", notify=False)
    ticket = actions.create_ticket(acting_user=owner(cast), customer=shop, title="Till jams")
    for slug in ("in-progress", "closed"):
        actions.change_status(
            acting_user=owner(cast),
            ticket=ticket,
            status=TicketStatus.objects.get(organization=cast.org, slug=slug),
        )
    settle()
    assert smtp.messages == []
    assert not Delivery.objects.exclude(channel="webhook").exists()


def test_it_always_pushes_an_assignment_to_the_added_technicians(cast, smtp, shop, alice):
    only(cast, "open", None, notify=False)  # every toggle of every status off
    ticket = actions.create_ticket(acting_user=owner(cast), customer=shop, title="Till jams")
    actions.assign(acting_user=owner(cast), ticket=ticket, technicians=[cast.agent])
    actions.assign(acting_user=owner(cast), ticket=ticket, technicians=[cast.agent, alice])
    settle()
    first, second = Event.objects.filter(type="ticket.assigned").order_by("sequence")
    assert sorted(
        Delivery.objects.filter(event=first).values_list("channel", "recipient_user__username")
    ) == push("adam")
    # Only the newly added technician hears about the second assignment.
    assert sorted(
        Delivery.objects.filter(event=second).values_list("channel", "recipient_user__username")
    ) == push("alice")
    assert smtp.messages == []
    item = InboxItem.objects.get(user=cast.agent)
    assert item.url == f"/tickets/{ticket.public_id}/"


def test_it_keeps_an_admins_edit_of_a_managed_rule(cast, smtp, shop, alice):
    only(cast, "in-progress", "email_admins")
    rule = NotificationRule.objects.get(
        organization=cast.org, managed_by="tickets", name__contains="email admins"
    )
    assert rule.enabled and rule.ticket_status_to == "in-progress"
    update_rule(
        acting_user=owner(cast),
        rule=rule,
        data={"recipients": [{"kind": "user", "value": "alice"}]},
    )
    only(cast, "in-progress", "email_admins")  # saving again regenerates, keeps the edit
    ticket = actions.create_ticket(acting_user=owner(cast), customer=shop, title="Till jams")
    actions.change_status(
        acting_user=owner(cast),
        ticket=ticket,
        status=TicketStatus.objects.get(organization=cast.org, slug="in-progress"),
    )
    settle()
    assert sent(Event.objects.get(type="ticket.status_changed"), smtp) == (
        ["alice@example.com"],
        [],
    )
    only(cast, "in-progress", None)  # unticked: the rule stays, switched off
    rule.refresh_from_db()
    assert not rule.enabled and rule.recipients == [{"kind": "user", "value": "alice"}]


def test_it_uses_the_chosen_contact_type_for_the_customer(cast, smtp, shop):
    only(cast, "in-progress", "email_customer")
    billing = ContactType.objects.get(organization=cast.org, slug="billing")
    actions.save_notification_settings(acting_user=owner(cast), toggles={}, contact_type=billing)
    ticket = actions.create_ticket(acting_user=owner(cast), customer=shop, title="Till jams")
    actions.change_status(
        acting_user=owner(cast),
        ticket=ticket,
        status=TicketStatus.objects.get(organization=cast.org, slug="in-progress"),
    )
    settle()
    assert sent(Event.objects.get(type="ticket.status_changed"), smtp) == (["bill@shop.test"], [])


def test_the_ticket_page_says_who_could_not_be_reached(cast, client, smtp):
    bare = Customer.objects.create(organization=cast.org, name="Bare Shop")  # no contacts
    cast.agent.email = ""
    cast.agent.save()
    status = TicketStatus.objects.get(organization=cast.org, slug="in-progress")
    for toggle in ("notify", "email_customer", "email_technicians", "push_technicians"):
        setattr(status, toggle, True)
    status.save()
    ticket = actions.create_ticket(
        acting_user=owner(cast), customer=bare, title="Till jams", technicians=[cast.agent]
    )
    actions.change_status(acting_user=owner(cast), ticket=ticket, status=status)
    settle()
    assert smtp.messages == []
    # The push still reached the technician without an email.
    assert Delivery.objects.filter(recipient_user=cast.agent, channel="inapp").count() == 2

    client.force_login(cast.owner)
    body = client.get(f"/tickets/{ticket.public_id}/").content.decode()
    assert "adam has no email" in body
    assert "Bare Shop has no primary Service contact" in body  # the type by its name


def test_the_ticket_page_says_nothing_when_everyone_was_reached(cast, client, smtp, shop):
    only(cast, "in-progress", "email_technicians")
    ticket = actions.create_ticket(
        acting_user=owner(cast), customer=shop, title="Till jams", technicians=[cast.agent]
    )
    actions.change_status(
        acting_user=owner(cast),
        ticket=ticket,
        status=TicketStatus.objects.get(organization=cast.org, slug="in-progress"),
    )
    settle()
    client.force_login(cast.owner)
    page = client.get(f"/tickets/{ticket.public_id}/")
    assert page.context["reach_problems"] == []


def test_the_settings_page_writes_the_rules(cast, client):
    client.force_login(cast.owner)
    assert client.get("/tickets/settings/").status_code == 200
    response = client.post(
        "/tickets/settings/",
        {"closed:notify": "on", "closed:email_customer": "on", "customer_contact_type": "billing"},
    )
    assert response.status_code == 302
    closed = TicketStatus.objects.get(organization=cast.org, slug="closed")
    assert closed.notify and closed.email_customer and not closed.email_admins
    names = set(
        NotificationRule.objects.filter(
            organization=cast.org, managed_by="tickets", enabled=True
        ).values_list("name", flat=True)
    )
    assert names == {
        "Tickets: Closed: email the customer",
        "Tickets: push the assignment to the technicians",
        "Tickets: email public answers to the customer",
    }
    settings = TicketSettings.objects.get(organization=cast.org)
    assert settings.customer_contact_type.slug == "billing"
    page = client.get("/tickets/settings/").content.decode()
    assert "Tickets: Closed: email the customer" in page  # listed, linked to its rule page


def test_the_settings_page_refuses_other_roles_and_bad_input(cast, client):
    for user in (cast.agent, cast.viewer):
        client.force_login(user)
        assert client.get("/tickets/settings/").status_code == 403
        assert client.post("/tickets/settings/", {"open:notify": "on"}).status_code == 403
    client.force_login(cast.owner)
    assert client.put("/tickets/settings/").status_code == 405
    response = client.post("/tickets/settings/", {"customer_contact_type": "nope"})
    assert response.status_code == 200 and b"no such contact type" in response.content
    assert not TicketStatus.objects.filter(organization=cast.org, notify=True).exists()
    # Another organization's owner edits their own settings, never acme's.
    client.force_login(cast.outsider)
    client.post("/tickets/settings/", {"open:notify": "on", "open:push_admins": "on"})
    assert TicketStatus.objects.filter(organization=cast.other_org, slug="open", notify=True)
    assert not TicketStatus.objects.filter(organization=cast.org, notify=True).exists()
    assert not NotificationRule.objects.filter(organization=cast.org).exists()


def test_the_status_api_writes_the_rules(cast, api_client):
    client = api_client(cast.key)
    response = client.patch("/ticket-statuses/closed", {"notify": True, "push_admins": True})
    assert response.status_code == 200, response.json()
    assert NotificationRule.objects.get(
        organization=cast.org, managed_by="tickets", name="Tickets: Closed: push admins"
    ).enabled
    assert (
        api_client(cast.readonly_key)
        .patch("/ticket-statuses/closed", {"push_admins": False})
        .status_code
        == 403
    )
    # The other organization's key changes its own "closed", not acme's rules.
    assert (
        api_client(cast.other_key)
        .patch("/ticket-statuses/closed", {"notify": True, "email_admins": True})
        .status_code
        == 200
    )
    assert not NotificationRule.objects.filter(
        organization=cast.org, name__contains="email admins"
    ).exists()
    response = client.patch("/ticket-statuses/closed", {"notify": "maybe"})
    assert response.status_code == 422


def test_status_changes_are_events_and_a_quiet_new_status_writes_no_rules(cast, api_client):
    client = api_client(cast.key)
    response = client.post("/ticket-statuses", {"slug": "on-hold", "name": "On hold"})
    assert response.status_code == 201, response.json()
    created = Event.objects.get(organization=cast.org, type="ticket_status.created")
    assert created.payload["status"]["slug"] == "on-hold"
    assert not NotificationRule.objects.filter(organization=cast.org).exists()
    response = client.patch("/ticket-statuses/on-hold", {"notify": True, "email_admins": True})
    assert response.status_code == 200, response.json()
    updated = Event.objects.get(organization=cast.org, type="ticket_status.updated")
    assert updated.payload["changed"] == ["email_admins", "notify"]
    assert NotificationRule.objects.get(
        organization=cast.org, managed_by="tickets", name="Tickets: On hold: email admins"
    ).enabled
    # Saving the same values again changes nothing and tells nobody.
    assert client.patch("/ticket-statuses/on-hold", {"notify": True}).status_code == 200
    assert Event.objects.filter(organization=cast.org, type="ticket_status.updated").count() == 1
