import pytest

from sofno.core.access import Actor
from sofno.core.models import Role
from sofno.directory.models import Customer
from sofno.tickets import actions
from sofno.tickets.models import Ticket


@pytest.fixture
def ticket(cast):
    shop = Customer.objects.create(organization=cast.org, name="Shop")
    actor = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    return actions.create_ticket(acting_user=actor, customer=shop, title="Printer jams")


def test_it_lists_and_shows_tickets(cast, client, ticket):
    client.force_login(cast.agent)
    assert b"Printer jams" in client.get("/tickets/").content
    page = client.get(f"/tickets/{ticket.public_id}/")
    assert page.status_code == 200 and b"History" in page.content


def test_it_creates_a_ticket_from_the_form(cast, client, ticket):
    client.force_login(cast.agent)
    response = client.post(
        "/tickets/new/",
        {"customer": ticket.customer.pk, "title": "Screen flickers", "priority": "high"},
    )
    assert response.status_code == 302
    assert Ticket.objects.filter(title="Screen flickers", number=2).exists()


def test_it_changes_status_and_assigns_from_the_page(cast, client, ticket):
    client.force_login(cast.agent)
    client.post(f"/tickets/{ticket.public_id}/status/", {"status": "closed"})
    client.post(f"/tickets/{ticket.public_id}/assign/", {"technicians": [cast.agent.pk]})
    ticket.refresh_from_db()
    assert ticket.status.slug == "closed"
    assert list(ticket.technicians.all()) == [cast.agent]


def test_it_refuses_status_changes_to_a_viewer(cast, client, ticket):
    client.force_login(cast.viewer)
    assert (
        client.post(f"/tickets/{ticket.public_id}/status/", {"status": "closed"}).status_code == 403
    )
    assert client.get(f"/tickets/{ticket.public_id}/status/").status_code == 405


def test_it_hides_another_organizations_ticket(cast, client, ticket):
    client.force_login(cast.outsider)
    assert client.get(f"/tickets/{ticket.public_id}/").status_code == 404
    client.post(f"/tickets/{ticket.public_id}/status/", {"status": "closed"})
    ticket.refresh_from_db()
    assert ticket.status.slug == "open"


def test_it_refuses_the_ticket_form_to_a_viewer(cast, client, ticket):
    client.force_login(cast.viewer)
    assert b"/tickets/new/" not in client.get("/tickets/").content
    assert client.get("/tickets/new/").status_code == 403
    response = client.post(
        "/tickets/new/", {"customer": ticket.customer.pk, "title": "Sneaky", "priority": "high"}
    )
    assert response.status_code == 403
    assert not Ticket.objects.filter(title="Sneaky").exists()
