import pytest

from sofno.core.models import Membership, Role
from sofno.core.testing import field_errors, make_user
from sofno.directory.models import Customer, CustomerUser
from sofno.events.models import Event
from sofno.tickets.models import Ticket, TicketChange


@pytest.fixture
def shop(cast):
    return Customer.objects.create(organization=cast.org, name="Shop")


@pytest.fixture
def other_shop(cast):
    return Customer.objects.create(organization=cast.other_org, name="Globex shop")


def member_id(cast, user):
    return str(Membership.objects.get(organization=cast.org, user=user).public_id)


def new_ticket(api, shop, **extra):
    body = {"customer": str(shop.public_id), "title": "Printer jams", **extra}
    response = api.post("/tickets", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_it_creates_a_ticket_with_number_history_and_event(cast, api_client, shop):
    api = api_client(cast.key)
    first = new_ticket(api, shop)
    second = new_ticket(api, shop, status="in-progress", technicians=[member_id(cast, cast.agent)])
    assert (first["number"], second["number"]) == (1, 2)
    assert first["status"] == "open" and first["is_open"]
    assert second["technicians"] == [member_id(cast, cast.agent)]
    types = list(Event.objects.filter(organization=cast.org).values_list("type", flat=True))
    assert types.count("ticket.created") == 2
    assert "ticket.assigned" in types
    ticket = Ticket.objects.get(public_id=second["id"])
    assert [c.kind for c in ticket.changes.all()] == ["created", "assignment"]


def test_it_changes_status_and_records_who_and_from_what(cast, api_client, shop):
    api = api_client(cast.key)
    ticket = new_ticket(api, shop)
    response = api.post(f"/tickets/{ticket['id']}/status", {"status": "closed"})
    assert response.status_code == 200
    assert response.json()["is_open"] is False and response.json()["closed_at"]
    change = TicketChange.objects.get(kind="status")
    assert (change.from_value, change.to_value) == ("Open", "Closed")
    event = Event.objects.get(type="ticket.status_changed")
    assert event.payload["previous_status"]["slug"] == "open"
    assert event.payload["status"]["slug"] == "closed"


def test_it_names_added_technicians_in_the_assignment_event(cast, api_client, shop):
    api = api_client(cast.key)
    ticket = new_ticket(api, shop, technicians=[member_id(cast, cast.agent)])
    both = [member_id(cast, cast.agent), member_id(cast, cast.owner)]
    response = api.post(f"/tickets/{ticket['id']}/assign", {"technicians": both})
    assert response.status_code == 200
    last = Event.objects.filter(type="ticket.assigned").order_by("sequence").last()
    assert [t["username"] for t in last.payload["added_technicians"]] == ["olivia"]


def test_it_rejects_unknown_status_customer_and_technician(cast, api_client, shop, other_shop):
    api = api_client(cast.key)
    assert field_errors(new_ticket_response(api, shop, status="nope")) == {"status": "unknown"}
    response = api.post("/tickets", {"customer": str(other_shop.public_id), "title": "x"})
    assert field_errors(response) == {"customer": "unknown"}
    viewer_id = member_id(cast, cast.viewer)
    response = new_ticket_response(api, shop, technicians=[viewer_id])
    assert field_errors(response) == {"technicians": "unknown"}
    response = new_ticket_response(api, shop, title="")
    assert "title" in field_errors(response)
    assert Ticket.objects.count() == 0


def new_ticket_response(api, shop, **extra):
    return api.post("/tickets", {"customer": str(shop.public_id), "title": "t", **extra})


def test_it_refuses_writes_with_a_read_only_key(cast, api_client, shop):
    ticket = new_ticket(api_client(cast.key), shop)
    readonly = api_client(cast.readonly_key)
    assert readonly.post(f"/tickets/{ticket['id']}/status", {"status": "closed"}).status_code == 403
    assert new_ticket_response(readonly, shop).status_code == 403
    assert readonly.get(f"/tickets/{ticket['id']}").status_code == 200


def test_it_hides_tickets_from_another_organization(cast, api_client, shop):
    ticket = new_ticket(api_client(cast.key), shop)
    outsider = api_client(cast.other_key)
    assert outsider.get(f"/tickets/{ticket['id']}").status_code == 404
    assert outsider.post(f"/tickets/{ticket['id']}/status", {"status": "closed"}).status_code == 404
    assert outsider.get("/tickets").json()["count"] == 0
    assert Ticket.objects.get(public_id=ticket["id"]).status.slug == "open"


def test_it_answers_405_to_a_wrong_method(cast, api_client, shop):
    ticket = new_ticket(api_client(cast.key), shop)
    assert api_client(cast.key).delete(f"/tickets/{ticket['id']}/status").status_code == 405


def test_it_limits_customer_users_to_their_own_customer(cast, client, shop):
    other = Customer.objects.create(organization=cast.org, name="Other shop")
    api = client
    customer_user = make_user("carla", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=customer_user, customer=shop)
    staff = __import__("sofno.core.testing", fromlist=["ApiClient"]).ApiClient(cast.key)
    mine = new_ticket(staff, shop)
    theirs = new_ticket(staff, other)
    api.force_login(customer_user)
    listed = api.get("/api/v1/tickets").json()
    assert [t["id"] for t in listed["items"]] == [mine["id"]]
    assert api.get(f"/api/v1/tickets/{theirs['id']}").status_code == 404
    # A customer user may open a ticket for their own customer, not for another.
    created = api.post(
        "/api/v1/tickets",
        {"customer": str(shop.public_id), "title": "Help", "status": "closed"},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["status"] == "open"
    refused = api.post(
        "/api/v1/tickets",
        {"customer": str(other.public_id), "title": "Help"},
        content_type="application/json",
    )
    assert refused.status_code == 422


def test_it_lets_admins_configure_status_notifications(cast, api_client):
    api = api_client(cast.key)
    response = api.patch("/ticket-statuses/closed", {"notify": True, "email_customer": True})
    assert response.status_code == 200 and response.json()["email_customer"] is True
    created = api.post("/ticket-statuses", {"slug": "parts", "name": "Waiting for parts"})
    assert created.status_code == 201
    again = api.post("/ticket-statuses", {"slug": "parts", "name": "Dup"})
    assert field_errors(again) == {"slug": "unique"}
    assert (
        api_client(cast.readonly_key)
        .patch("/ticket-statuses/closed", {"notify": False})
        .status_code
        == 403
    )


@pytest.mark.parametrize("path", ["/tickets", "/incidents", "/events"])
@pytest.mark.parametrize("query", ["offset=2695026012114186003283968", "limit=5486087"])
def test_it_bounds_pagination_with_a_clear_error(cast, api_client, path, query):
    response = api_client(cast.key).get(f"{path}?{query}")
    assert response.status_code == 422
    assert set(field_errors(response)) <= {"offset", "limit"}
