"""The conversation on the ticket page: staff see notes and answers, customers answers."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from sofno.core.access import Actor
from sofno.core.models import Role
from sofno.core.testing import make_user
from sofno.directory.models import Customer, CustomerUser
from sofno.tickets import actions
from sofno.tickets.models import TicketComment


@pytest.fixture
def shop(cast):
    return Customer.objects.create(organization=cast.org, name="Shop")


@pytest.fixture
def ticket(cast, shop):
    owner = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    return actions.create_ticket(acting_user=owner, customer=shop, title="Till 2 is dead")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _say(client: Client, ticket, body: str, public: bool = False):
    data = {"body": body, **({"public": "on"} if public else {})}
    return client.post(reverse("web:ticket-comment", args=[ticket.public_id]), data, follow=True)


def test_it_shows_staff_notes_and_answers_and_customers_only_answers(cast, shop, ticket):
    agent = _client(cast.agent)
    _say(agent, ticket, "Internal: supplier owes us a PSU")
    page = _say(agent, ticket, "Technician arrives at 10:00", public=True)
    assert page.status_code == 200
    assert "Internal: supplier owes us a PSU" in page.text
    assert "Technician arrives at 10:00" in page.text
    carla = make_user("carla", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=carla, customer=shop)
    seen = _client(carla).get(reverse("web:ticket-detail", args=[ticket.public_id]))
    assert seen.status_code == 200
    assert "Technician arrives at 10:00" in seen.text
    assert "supplier owes us" not in seen.text
    assert 'id="comment-public"' not in seen.text  # customers cannot write notes
    answer = _say(_client(carla), ticket, "Thanks!")
    assert answer.status_code == 200
    assert TicketComment.objects.get(body="Thanks!").is_public


def test_it_refuses_read_only_roles_and_explains_an_empty_message(cast, ticket):
    refused = _client(cast.viewer).post(
        reverse("web:ticket-comment", args=[ticket.public_id]), {"body": "hi"}
    )
    assert refused.status_code == 403
    empty = _say(_client(cast.agent), ticket, "  ")
    assert "write a message" in empty.text
    assert not TicketComment.objects.exists()


def test_it_hides_the_form_from_read_only_roles(cast, ticket):
    page = _client(cast.viewer).get(reverse("web:ticket-detail", args=[ticket.public_id]))
    assert page.status_code == 200
    assert 'id="comment-form"' not in page.text
