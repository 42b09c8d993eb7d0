"""Customers, contacts and contact types under /api/v1."""

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import LimitOffsetPagination, paginate

from sofno.core.access import get_scoped_or_404
from sofno.core.api import ErrorOut, actor
from sofno.directory import actions
from sofno.directory.schemas import CustomerFilter, CustomerIn, CustomerOut, CustomerPatch
from sofno.directory.selectors import customers_for

router = Router(tags=["directory"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@router.get("/customers", response=list[CustomerOut])
@paginate(LimitOffsetPagination)
def list_customers(request: HttpRequest, filters: Query[CustomerFilter]):
    """The organization's customers, filtered and paginated (``limit``, ``offset``)."""
    return filters.filter(customers_for(actor(request))).prefetch_related("assigned_agents")


@router.post("/customers", response={201: CustomerOut, **ERRORS})
def create_customer(request: HttpRequest, payload: CustomerIn):
    customer = actions.create_customer(acting_user=actor(request), fields=payload.dict())
    return 201, customer


@router.get("/customers/{customer_id}", response={200: CustomerOut, **ERRORS})
def get_customer(request: HttpRequest, customer_id: UUID):
    who = actor(request)
    return get_scoped_or_404(customers_for(who), who, public_id=customer_id)


@router.patch("/customers/{customer_id}", response={200: CustomerOut, **ERRORS})
def update_customer(request: HttpRequest, customer_id: UUID, payload: CustomerPatch):
    who = actor(request)
    customer = get_scoped_or_404(customers_for(who), who, public_id=customer_id)
    fields = payload.dict(exclude_unset=True)
    return actions.update_customer(acting_user=who, customer=customer, fields=fields)


@router.delete("/customers/{customer_id}", response={204: None, **ERRORS})
def delete_customer(request: HttpRequest, customer_id: UUID):
    who = actor(request)
    customer = get_scoped_or_404(customers_for(who), who, public_id=customer_id)
    actions.delete_customer(acting_user=who, customer=customer)
    return 204, None
