"""Changes to the directory: validated (model ``full_clean``), atomic and audited.

Every function takes a keyword-only ``acting_user`` (an :class:`~sofno.core.access.Actor`).
"""

from sofno.directory.actions.contacts import (
    create_contact,
    create_contact_type,
    delete_contact,
    delete_contact_type,
    ensure_default_contact_types,
    resolve_contact_type,
    update_contact,
    update_contact_type,
)
from sofno.directory.actions.customers import create_customer, delete_customer, update_customer
from sofno.directory.actions.members import add_member, remove_member, update_member
from sofno.directory.actions.profile import update_profile

__all__ = [
    "add_member",
    "create_contact",
    "create_contact_type",
    "create_customer",
    "delete_contact",
    "delete_contact_type",
    "delete_customer",
    "ensure_default_contact_types",
    "remove_member",
    "resolve_contact_type",
    "update_contact",
    "update_contact_type",
    "update_customer",
    "update_member",
    "update_profile",
]
