"""Members: users of the organization with their role (staff may list; owners and
admins change)."""

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from sofno.core.access import get_scoped_or_404
from sofno.core.api import ERRORS, actor
from sofno.core.pagination import Pages
from sofno.directory import actions
from sofno.directory.member_schemas import MemberFilter, MemberIn, MemberOut, MemberPatch
from sofno.directory.selectors import members_for

router = Router(tags=["members"])


def _member(request: HttpRequest, member_id: UUID):
    who = actor(request)
    return who, get_scoped_or_404(members_for(who), who, public_id=member_id)


@router.get("/members", response={200: list[MemberOut], **ERRORS})
@paginate(Pages)
def list_members(request: HttpRequest, filters: Query[MemberFilter]):
    """The organization's members by username (not for customer users)."""
    return filters.filter(members_for(actor(request)))


@router.post("/members", response={201: MemberOut, **ERRORS})
def create_member(request: HttpRequest, payload: MemberIn):
    """Create a user with a role; a customer user must name its one customer."""
    who = actor(request)
    membership = actions.add_member(acting_user=who, fields=payload.model_dump())
    return Status(201, members_for(who).get(pk=membership.pk))


@router.get("/members/{member_id}", response={200: MemberOut, **ERRORS})
def get_member(request: HttpRequest, member_id: UUID):
    return _member(request, member_id)[1]


@router.patch("/members/{member_id}", response={200: MemberOut, **ERRORS})
def update_member(request: HttpRequest, member_id: UUID, payload: MemberPatch):
    """Change a member's role or linked customer (owners, admins)."""
    who, membership = _member(request, member_id)
    actions.update_member(acting_user=who, membership=membership, fields=payload.changes())
    return _member(request, member_id)[1]


@router.delete("/members/{member_id}", response={204: None, **ERRORS})
def remove_member(request: HttpRequest, member_id: UUID):
    """End a membership (owners, admins; only an owner removes an owner)."""
    who, membership = _member(request, member_id)
    actions.remove_member(acting_user=who, membership=membership)
    return Status(204, None)
