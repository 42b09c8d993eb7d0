"""Tickets and ticket statuses under /api/v1."""

from uuid import UUID

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from sofno.core.access import get_scoped_or_404
from sofno.core.api import ERRORS, actor, field_error
from sofno.core.models import Membership
from sofno.core.pagination import Pages
from sofno.core.scoping import customer_access
from sofno.directory.selectors import customers_for
from sofno.tickets import actions, comments
from sofno.tickets.models import TicketStatus
from sofno.tickets.schemas import (
    AssignIn,
    ChangeOut,
    CommentIn,
    CommentOut,
    StatusChangeIn,
    StatusIn,
    StatusOut,
    StatusPatch,
    TicketFilter,
    TicketIn,
    TicketOut,
    TicketPatch,
)
from sofno.tickets.selectors import tickets_for

router = Router(tags=["tickets"])


def _status(request, slug: str, field: str = "status") -> TicketStatus:
    found = TicketStatus.objects.filter(organization=actor(request).organization, slug=slug).first()
    if found is None:
        raise field_error(field, "unknown", f"unknown status {slug!r}")
    return found


def _ticket(request, ticket_id: UUID):
    who = actor(request)
    return get_scoped_or_404(tickets_for(who), who, public_id=ticket_id)


@router.get("/tickets", response=list[TicketOut])
@paginate(Pages)
@customer_access
def list_tickets(request: HttpRequest, filters: Query[TicketFilter]):
    """Tickets, newest first; customer users see their own customer's only."""
    who = actor(request)
    return filters.filter(tickets_for(who)).prefetch_related(
        Prefetch(
            "technicians__memberships",
            queryset=Membership.objects.filter(organization=who.organization),
            to_attr="org_memberships",
        )
    )


@router.post("/tickets", response={201: TicketOut, **ERRORS})
@customer_access
def create_ticket(request: HttpRequest, payload: TicketIn):
    who = actor(request)
    customer = customers_for(who).filter(public_id=payload.customer).first()
    if customer is None:
        raise field_error("customer", "unknown", "unknown customer")
    status = _status(request, payload.status) if payload.status else None
    technicians = actions.technicians_from_members(who, payload.technicians)
    ticket = actions.create_ticket(
        acting_user=who,
        customer=customer,
        title=payload.title,
        description=payload.description,
        priority=payload.priority,
        status=status,
        technicians=technicians,
    )
    return 201, ticket


@router.get("/tickets/{ticket_id}", response={200: TicketOut, **ERRORS})
@customer_access
def get_ticket(request: HttpRequest, ticket_id: UUID):
    return _ticket(request, ticket_id)


@router.patch("/tickets/{ticket_id}", response={200: TicketOut, **ERRORS})
def update_ticket(request: HttpRequest, ticket_id: UUID, payload: TicketPatch):
    ticket = _ticket(request, ticket_id)
    fields = payload.dict(exclude_unset=True, exclude_none=True)
    return actions.update_ticket(acting_user=actor(request), ticket=ticket, fields=fields)


@router.post("/tickets/{ticket_id}/status", response={200: TicketOut, **ERRORS})
def change_status(request: HttpRequest, ticket_id: UUID, payload: StatusChangeIn):
    ticket = _ticket(request, ticket_id)
    status = _status(request, payload.status)
    return actions.change_status(acting_user=actor(request), ticket=ticket, status=status)


@router.post("/tickets/{ticket_id}/assign", response={200: TicketOut, **ERRORS})
def assign(request: HttpRequest, ticket_id: UUID, payload: AssignIn):
    who = actor(request)
    ticket = _ticket(request, ticket_id)
    technicians = actions.technicians_from_members(who, payload.technicians)
    return actions.assign(acting_user=who, ticket=ticket, technicians=technicians)


@router.get("/tickets/{ticket_id}/history", response={200: list[ChangeOut], **ERRORS})
@customer_access
def history(request: HttpRequest, ticket_id: UUID):
    return _ticket(request, ticket_id).changes.select_related("actor")


@router.get("/tickets/{ticket_id}/comments", response={200: list[CommentOut], **ERRORS})
@customer_access
def list_comments(request: HttpRequest, ticket_id: UUID):
    """The ticket's conversation, oldest first; customer users see public messages only."""
    return comments.comments_for(actor(request), _ticket(request, ticket_id))


@router.post("/tickets/{ticket_id}/comments", response={201: CommentOut, **ERRORS})
@customer_access
def add_comment(request: HttpRequest, ticket_id: UUID, payload: CommentIn):
    """Add an internal note or a public answer (customer users: a public message)."""
    comment = comments.add_comment(
        acting_user=actor(request),
        ticket=_ticket(request, ticket_id),
        body=payload.body,
        public=payload.public,
    )
    return Status(201, comment)


@router.get("/ticket-statuses", response=list[StatusOut])
def list_statuses(request: HttpRequest):
    return TicketStatus.objects.filter(organization=actor(request).organization)


@router.post("/ticket-statuses", response={201: StatusOut, **ERRORS})
def create_status(request: HttpRequest, payload: StatusIn):
    who = actor(request)
    who.require_admin()
    if TicketStatus.objects.filter(organization=who.organization, slug=payload.slug).exists():
        raise field_error("slug", "unique", f"a status {payload.slug!r} exists already")
    return 201, actions.create_status(acting_user=who, fields=payload.dict())


@router.patch("/ticket-statuses/{slug}", response={200: StatusOut, **ERRORS})
def update_status(request: HttpRequest, slug: str, payload: StatusPatch):
    who = actor(request)
    who.require_admin()
    status = get_scoped_or_404(TicketStatus.objects.all(), who, slug=slug)
    fields = payload.dict(exclude_unset=True, exclude_none=True)
    return actions.update_status(acting_user=who, status=status, fields=fields)
