"""A ticket's conversation: internal notes, public answers, the customer's messages."""

from __future__ import annotations

import pytest

from sofno.core.models import Role
from sofno.core.testing import ApiClient, make_user
from sofno.directory.models import Customer, CustomerUser
from sofno.events.models import Event
from sofno.notify.models import Delivery
from sofno.tickets.models import Ticket, TicketComment
from sofno.tickets.tests.test_ticket_notifications import settle, shop  # noqa: F401

SECRET = "router password is hunter2"


@pytest.fixture
def ticket(cast, shop):  # noqa: F811
    staff = ApiClient(cast.key)
    answer = staff.post("/tickets", {"customer": str(shop.public_id), "title": "Till 2 is dead"})
    assert answer.status_code == 201, answer.content
    return Ticket.objects.get(public_id=answer.json()["id"])


@pytest.fixture
def carla(cast, shop):  # noqa: F811
    user = make_user("carla-user", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=user, customer=shop)
    return user


def _post(client: ApiClient, ticket: Ticket, body: str, public: bool = False):
    return client.post(f"/tickets/{ticket.public_id}/comments", {"body": body, "public": public})


def test_it_keeps_internal_notes_from_the_customer(cast, ticket, carla):
    agent = ApiClient.as_user(cast.agent)
    assert _post(agent, ticket, SECRET).status_code == 201
    assert _post(agent, ticket, "We are on our way.", public=True).status_code == 201
    staff_view = agent.get(f"/tickets/{ticket.public_id}/comments").json()
    assert [c["body"] for c in staff_view] == [SECRET, "We are on our way."]
    assert [c["public"] for c in staff_view] == [False, True]
    customer_view = ApiClient.as_user(carla).get(f"/tickets/{ticket.public_id}/comments")
    assert [c["body"] for c in customer_view.json()] == ["We are on our way."]
    # The event log is readable more widely than a note: the note's text is not in it.
    events = Event.objects.filter(type="ticket.commented").order_by("sequence")
    assert [e.payload["comment"]["public"] for e in events] == [False, True]
    assert all(SECRET not in str(e.payload) for e in events)


def test_it_makes_a_customer_users_message_public_and_keeps_them_to_their_tickets(
    cast, ticket, carla
):
    client = ApiClient.as_user(carla)
    mine = _post(client, ticket, "It beeps three times.", public=False)
    assert mine.status_code == 201 and mine.json()["public"] is True
    assert mine.json()["by_customer"] is True
    other = Customer.objects.create(organization=cast.org, name="Other shop")
    theirs = Ticket.objects.create(
        organization=cast.org, number=99, customer=other, title="x", status=ticket.status
    )
    assert _post(client, theirs, "hello").status_code == 404
    assert not TicketComment.objects.filter(ticket=theirs).exists()


def test_it_refuses_read_only_roles_other_organizations_and_empty_messages(cast, ticket):
    assert _post(ApiClient.as_user(cast.viewer), ticket, "hi").status_code == 403
    assert _post(ApiClient(cast.other_key), ticket, "hi").status_code == 404
    empty = _post(ApiClient(cast.key), ticket, "   ")
    assert empty.status_code == 422
    assert "body" in empty.content.decode()
    assert not TicketComment.objects.exists()


def test_it_emails_the_customer_public_answers_only(cast, ticket, carla, smtp):
    settle()
    smtp.messages.clear()
    agent = ApiClient.as_user(cast.agent)
    _post(agent, ticket, SECRET)
    _post(ApiClient.as_user(carla), ticket, "Any news?")
    settle()
    assert smtp.messages == []
    _post(agent, ticket, "Replaced the power supply.", public=True)
    settle()
    answered = Event.objects.filter(type="ticket.commented").order_by("sequence").last()
    emails = list(
        Delivery.objects.filter(event=answered, channel="email").values_list("address", flat=True)
    )
    assert emails == ["carla@shop.test"]
    assert [to for m in smtp.messages for to in m.rcpt_tos] == ["carla@shop.test"]
    body = smtp.messages[0].message.get_body(("plain",)).get_content()
    assert "Replaced the power supply." in body
