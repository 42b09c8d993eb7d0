"""Customers: list (filtered, paginated), create, read, change, delete."""

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from sofno.core.access import get_scoped_or_404
from sofno.core.api import ERRORS, actor
from sofno.core.pagination import Pages
from sofno.core.scoping import customer_access
from sofno.directory import actions
from sofno.directory.schemas import CustomerFilter, CustomerIn, CustomerOut, CustomerPatch
from sofno.directory.selectors import customers_for

router = Router(tags=["customers"])


def _prefetched(customers):
    return customers.prefetch_related("assigned_agents__memberships")


def _customer(request: HttpRequest, customer_id: UUID):
    who = actor(request)
    return who, get_scoped_or_404(_prefetched(customers_for(who)), who, public_id=customer_id)


@router.get("/customers", response={200: list[CustomerOut], **ERRORS})
@paginate(Pages)
@customer_access
def list_customers(request: HttpRequest, filters: Query[CustomerFilter]):
    """The customers the caller may see, by name; filters combine (AND)."""
    return _prefetched(filters.filter(customers_for(actor(request))))


@router.post("/customers", response={201: CustomerOut, **ERRORS})
def create_customer(request: HttpRequest, payload: CustomerIn):
    """Add a customer (owners, admins, agents)."""
    customer = actions.create_customer(acting_user=actor(request), fields=payload.model_dump())
    return Status(201, customer)


@router.get("/customers/{customer_id}", response={200: CustomerOut, **ERRORS})
@customer_access
def get_customer(request: HttpRequest, customer_id: UUID):
    return _customer(request, customer_id)[1]


@router.patch("/customers/{customer_id}", response={200: CustomerOut, **ERRORS})
def update_customer(request: HttpRequest, customer_id: UUID, payload: CustomerPatch):
    """Change the fields sent (owners, admins, agents)."""
    who, customer = _customer(request, customer_id)
    actions.update_customer(acting_user=who, customer=customer, fields=payload.changes())
    return _customer(request, customer_id)[1]


@router.delete("/customers/{customer_id}", response={204: None, **ERRORS})
def delete_customer(request: HttpRequest, customer_id: UUID):
    """Delete a customer and its contacts (owners, admins)."""
    who, customer = _customer(request, customer_id)
    actions.delete_customer(acting_user=who, customer=customer)
    return Status(204, None)
