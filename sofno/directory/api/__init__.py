"""Directory endpoints under /api/v1: customers, contacts, contact types, members
and the signed-in person's profile."""

from ninja import Router

from sofno.directory.api import contacts, customers, members, profile

router = Router()
for module in (customers, contacts, members, profile):
    router.add_router("", module.router)
