"""Contacts and contact types."""

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from sofno.core.access import get_scoped_or_404
from sofno.core.api import ERRORS, actor
from sofno.core.pagination import Pages
from sofno.core.scoping import customer_access
from sofno.directory import actions
from sofno.directory.models import ContactType
from sofno.directory.schemas import (
    ContactFilter,
    ContactIn,
    ContactOut,
    ContactPatch,
    ContactTypeIn,
    ContactTypeOut,
    ContactTypePatch,
)
from sofno.directory.selectors import contacts_for

router = Router(tags=["contacts"])


def _contact(request: HttpRequest, contact_id: UUID):
    who = actor(request)
    return who, get_scoped_or_404(contacts_for(who), who, public_id=contact_id)


def _contact_type(request: HttpRequest, type_id: UUID):
    who = actor(request)
    return who, get_scoped_or_404(ContactType.objects.all(), who, public_id=type_id)


@router.get("/contacts", response={200: list[ContactOut], **ERRORS})
@paginate(Pages)
@customer_access
def list_contacts(request: HttpRequest, filters: Query[ContactFilter]):
    """Contacts of the customers the caller may see, by name."""
    return filters.filter(contacts_for(actor(request)))


@router.post("/contacts", response={201: ContactOut, **ERRORS})
def create_contact(request: HttpRequest, payload: ContactIn):
    """Add a contact; at most one primary contact per type per customer."""
    contact = actions.create_contact(acting_user=actor(request), fields=payload.model_dump())
    return Status(201, contact)


@router.get("/contacts/{contact_id}", response={200: ContactOut, **ERRORS})
@customer_access
def get_contact(request: HttpRequest, contact_id: UUID):
    return _contact(request, contact_id)[1]


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **ERRORS})
def update_contact(request: HttpRequest, contact_id: UUID, payload: ContactPatch):
    who, contact = _contact(request, contact_id)
    return actions.update_contact(acting_user=who, contact=contact, fields=payload.changes())


@router.delete("/contacts/{contact_id}", response={204: None, **ERRORS})
def delete_contact(request: HttpRequest, contact_id: UUID):
    who, contact = _contact(request, contact_id)
    actions.delete_contact(acting_user=who, contact=contact)
    return Status(204, None)


@router.get("/contact-types", response={200: list[ContactTypeOut], **ERRORS})
@paginate(Pages)
def list_contact_types(request: HttpRequest):
    """The organization's contact types, by name."""
    return ContactType.objects.filter(organization=actor(request).organization)


@router.post("/contact-types", response={201: ContactTypeOut, **ERRORS})
def create_contact_type(request: HttpRequest, payload: ContactTypeIn):
    """Add a contact type (owners, admins); the slug is unique in the organization."""
    who = actor(request)
    return Status(201, actions.create_contact_type(acting_user=who, **payload.model_dump()))


@router.get("/contact-types/{type_id}", response={200: ContactTypeOut, **ERRORS})
def get_contact_type(request: HttpRequest, type_id: UUID):
    return _contact_type(request, type_id)[1]


@router.patch("/contact-types/{type_id}", response={200: ContactTypeOut, **ERRORS})
def update_contact_type(request: HttpRequest, type_id: UUID, payload: ContactTypePatch):
    who, contact_type = _contact_type(request, type_id)
    return actions.update_contact_type(
        acting_user=who, contact_type=contact_type, fields=payload.changes()
    )


@router.delete("/contact-types/{type_id}", response={204: None, **ERRORS})
def delete_contact_type(request: HttpRequest, type_id: UUID):
    """Delete a contact type no contact uses (owners, admins)."""
    who, contact_type = _contact_type(request, type_id)
    actions.delete_contact_type(acting_user=who, contact_type=contact_type)
    return Status(204, None)
