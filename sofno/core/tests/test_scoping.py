"""The customer-user scoping mechanism itself: the API gate, the page gate, and the
queryset scope (sofno.core.scoping)."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from ninja import NinjaAPI
from ninja.testing import TestClient

from sofno.core.access import Actor, get_scoped_or_404
from sofno.core.api import install_error_handlers
from sofno.core.models import Role
from sofno.core.scoping import (
    allows_customers,
    customer_access,
    customer_gate,
    page_gate,
    visible_to,
)
from sofno.core.testing import make_user


@pytest.fixture
def two_shops(cast):
    """Carla, a customer user of "Mine"; "Theirs" is another customer."""
    from sofno.directory.models import Customer, CustomerUser

    mine = Customer.objects.create(organization=cast.org, name="Mine")
    theirs = Customer.objects.create(organization=cast.org, name="Theirs")
    carla = make_user("carla", cast.org, Role.CUSTOMER)
    CustomerUser.objects.create(organization=cast.org, user=carla, customer=mine)
    who = Actor(organization=cast.org, role=Role.CUSTOMER, user=carla)
    return who, mine, theirs


def _api_for(who: Actor) -> TestClient:
    """A fresh API, as a new app would add one, gated like the real one."""
    api = NinjaAPI(urls_namespace=f"scope-test-{id(who)}", auth=lambda request: who)
    install_error_handlers(api)
    api.add_decorator(customer_gate)

    @api.get("/new-staff-area")
    def new_staff_area(request):
        return {"secret": "staff business"}

    @api.get("/declared")
    @customer_access
    def declared(request):
        return {"ok": True}

    return TestClient(api)


def test_it_closes_an_undeclared_new_endpoint_to_customer_users(two_shops, cast):
    who, _, _ = two_shops
    client = _api_for(who)
    refused = client.get("/new-staff-area")
    assert refused.status_code == 403
    assert refused.json()["code"] == "staff_only"
    assert "staff business" not in refused.content.decode()
    assert client.get("/declared").status_code == 200


def test_it_leaves_undeclared_endpoints_open_to_staff(two_shops, cast):
    staff = Actor(organization=cast.org, role=Role.VIEWER, user=cast.viewer)
    client = _api_for(staff)
    assert client.get("/new-staff-area").json() == {"secret": "staff business"}


def test_it_closes_an_undeclared_page_to_customer_users(two_shops, cast):
    from django.core.exceptions import PermissionDenied

    who, _, _ = two_shops

    def new_page(request):
        return HttpResponse("staff business")

    request = RequestFactory().get("/somewhere/")
    request.user, request.actor = who.user, who
    with pytest.raises(PermissionDenied):
        page_gate(request, new_page)
    assert page_gate(request, customer_access(lambda r: HttpResponse())) is None
    request.user, request.actor = cast.viewer, Actor(cast.org, Role.VIEWER, cast.viewer)
    assert page_gate(request, new_page) is None


def test_it_finds_the_mark_through_wrapping_decorators():
    from django.contrib.auth.decorators import login_required
    from django.views.decorators.http import require_GET

    @login_required
    @require_GET
    @customer_access
    def inner(request):
        return HttpResponse()

    def bare(request):
        return HttpResponse()

    assert allows_customers(inner) and not allows_customers(bare)


def test_it_scopes_querysets_by_the_declared_customer_path(two_shops, cast):
    from django.http import Http404

    from sofno.directory.models import Contact, ContactType, Customer
    from sofno.monitoring.actions import create_device
    from sofno.monitoring.models import Device, Incident

    who, mine, theirs = two_shops
    owner = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    devices = {}
    for customer in (mine, theirs):
        Contact.objects.create(
            organization=cast.org,
            customer=customer,
            name=customer.name,
            contact_type=ContactType.objects.filter(organization=cast.org).first(),
        )
        devices[customer.name], _ = create_device(
            acting_user=owner, customer=customer, fields={"name": customer.name, "os": "linux"}
        )
        Incident.objects.create(organization=cast.org, device=devices[customer.name], title="x")
    for model in (Customer, Contact, Device, Incident):
        assert visible_to(owner, model.objects.all()).count() == 2
        assert visible_to(who, model.objects.all()).count() == 1, model
    assert list(visible_to(who, Customer.objects.all())) == [mine]
    with pytest.raises(Http404):
        get_scoped_or_404(Device.objects.all(), who, public_id=devices["Theirs"].public_id)
    assert get_scoped_or_404(Device.objects.all(), who, public_id=devices["Mine"].public_id)


def test_it_gives_a_customer_user_nothing_of_a_model_without_a_scope(two_shops, cast):
    from sofno.notify.models import WebhookEndpoint

    who, _, _ = two_shops
    WebhookEndpoint.objects.create(organization=cast.org, url="https://example.com/h")
    owner = Actor(organization=cast.org, role=Role.OWNER, user=cast.owner)
    assert visible_to(owner, WebhookEndpoint.objects.all()).count() == 1
    assert not visible_to(who, WebhookEndpoint.objects.all()).exists()


def test_it_scopes_person_owned_rows_to_their_person(two_shops, cast):
    from sofno.notify.channel_models import InboxItem

    who, _, _ = two_shops
    InboxItem.objects.create(organization=cast.org, user=who.user, title="yours")
    InboxItem.objects.create(organization=cast.org, user=cast.owner, title="the owner's")
    assert [i.title for i in visible_to(who, InboxItem.objects.all())] == ["yours"]


def test_it_never_crosses_organizations(two_shops, cast):
    from sofno.directory.models import Customer, CustomerUser

    who, _, _ = two_shops
    foreign = Customer.objects.create(organization=cast.other_org, name="Foreign")
    # Even a (corrupt) link to another organization's customer shows nothing of it.
    CustomerUser.objects.create(organization=cast.other_org, user=who.user, customer=foreign)
    assert foreign not in visible_to(who, Customer.objects.all())
