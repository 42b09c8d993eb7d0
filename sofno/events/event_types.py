"""Event types the events app knows: directory record changes, and the billing catalog.

The directory types are built in (the events app emits them from the directory's
signals). The billing types are a ready-made set of *custom* types an organization
installs with one call (``POST /api/v1/event-types/catalogs/billing``), because
they describe an external billing system's events, not SOFNO's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from sofno.events.catalog import EventType, Token

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

_CUSTOMER = Token("customer", "object", _("The customer: id, name, timezone, active."), {})
_CUSTOMER_ID = Token("customer.id", "string", _("Customer's public id."), "5b0c…")
_CUSTOMER_NAME = Token("customer.name", "string", _("Customer's name."), "Trattoria Da Mario")
_CONTACT_TOKENS = (
    Token("contact.id", "string", _("Contact's public id."), "0f3e…"),
    Token("contact.name", "string", _("Contact's name."), "Maria Rossi"),
    Token("contact.email", "string", _("Contact's email."), "maria@example.com"),
    Token("contact.phone", "string", _("Contact's phone (E.164)."), "+390612345678"),
    Token("contact.contact_type", "string", _("Contact type slug."), "billing"),
    _CUSTOMER_ID,
    _CUSTOMER_NAME,
)
_CHANGED = Token("changed", "array", _("Names of the fields that changed."), ["city"])


def _d(name: str, description: str | StrPromise, *tokens: Token) -> EventType:
    return EventType(name, description, tokens, "directory")


_CUSTOMER_TOKENS = (_CUSTOMER, _CUSTOMER_ID, _CUSTOMER_NAME)
DIRECTORY_EVENTS = (
    _d("customer.created", _("A customer was added."), *_CUSTOMER_TOKENS),
    _d("customer.updated", _("A customer's details changed."), *_CUSTOMER_TOKENS, _CHANGED),
    _d("customer.deleted", _("A customer was deleted."), *_CUSTOMER_TOKENS),
    _d("contact.created", _("A contact was added to a customer."), *_CONTACT_TOKENS),
    _d("contact.updated", _("A contact's details changed."), *_CONTACT_TOKENS, _CHANGED),
    _d("contact.deleted", _("A contact was removed."), *_CONTACT_TOKENS),
)

_ACCOUNT = (
    Token("account.id", "string", "Account number in the billing system.", "AC-1042"),
    Token("customer.id", "string", "SOFNO customer id, when known.", "5b0c…"),
    Token("customer.name", "string", "Customer name.", "Trattoria Da Mario"),
)
_INVOICE = (
    *_ACCOUNT,
    Token("invoice.number", "string", "Invoice number.", "2026-000123"),
    Token("invoice.amount", "number", "Amount due.", 129.90),
    Token("invoice.currency", "string", "ISO 4217 currency.", "EUR"),
    Token("invoice.due_date", "datetime", "When payment is due.", "2026-12-01T00:00:00Z"),
)
_BILL_RUN = (
    Token("bill_run.id", "string", "Bill run id.", "BR-2026-11"),
    Token("bill_run.period", "string", "Billing period.", "2026-11"),
)
_SERVICE = (
    *_ACCOUNT,
    Token("service.id", "string", "Service id (line, subscription).", "SV-77"),
    Token("service.name", "string", "Service name.", "Fibre 1G"),
)


def _t(name: str, description: str, *tokens: Token) -> EventType:
    return EventType(name, description, tokens, "billing")


BILLING_CATALOG = (
    _t(
        "service.state_changed",
        "A service moved from one state to another.",
        *_SERVICE,
        Token("previous_state", "string", "State before.", "active"),
        Token("new_state", "string", "State after.", "suspended"),
    ),
    _t(
        "account.status_changed",
        "An account's status changed.",
        *_ACCOUNT,
        Token("previous_status", "string", "Status before.", "active"),
        Token("new_status", "string", "Status after.", "collections"),
    ),
    _t(
        "account.cancelled",
        "An account was cancelled.",
        *_ACCOUNT,
        Token("reason", "string", "Why.", "moved away"),
    ),
    _t(
        "bill_run.started",
        "A bill run started.",
        *_BILL_RUN,
        Token("started_at", "datetime", "", "2026-11-01T02:00:00Z"),
    ),
    _t(
        "bill_run.completed",
        "A bill run completed.",
        *_BILL_RUN,
        Token("completed_at", "datetime", "", "2026-11-01T03:10:00Z"),
        Token("invoices", "integer", "Invoices produced.", 812),
    ),
    _t(
        "invoice.posted",
        "An invoice was posted.",
        *_INVOICE,
        Token("posted_at", "datetime", "", "2026-11-01T03:00:00Z"),
    ),
    _t(
        "invoice.overdue",
        "An invoice is past its due date.",
        *_INVOICE,
        Token("days_overdue", "integer", "", 7),
    ),
    _t(
        "invoice.delivered",
        "An invoice reached the customer.",
        *_INVOICE,
        Token("delivered_at", "datetime", "When it was delivered.", "2026-11-02T08:15:00Z"),
        Token("channel", "string", "How.", "email"),
    ),
    _t(
        "refund.issued",
        "A refund was issued.",
        *_ACCOUNT,
        Token("amount", "number", "", 20.0),
        Token("currency", "string", "", "EUR"),
    ),
    _t(
        "credit.processed",
        "A credit was applied to an account.",
        *_ACCOUNT,
        Token("amount", "number", "", 15.0),
        Token("currency", "string", "", "EUR"),
    ),
    _t(
        "contract.under_commit",
        "Usage is below the contract's committed amount.",
        *_ACCOUNT,
        Token("contract.id", "string", "", "CT-9"),
        Token("committed", "number", "", 1000),
        Token("actual", "number", "", 640),
    ),
    _t(
        "sim.dormant",
        "A SIM card has been inactive for a while.",
        *_SERVICE,
        Token("iccid", "string", "SIM id.", "8939100000000000001"),
        Token("inactive_days", "integer", "", 90),
    ),
    _t(
        "package.cancelled",
        "A package (bundle, option) was cancelled.",
        *_SERVICE,
        Token("package.id", "string", "", "PK-5"),
        Token("package.name", "string", "", "Roaming EU"),
    ),
    _t(
        "usage.threshold_exceeded",
        "Usage passed a configured threshold.",
        *_SERVICE,
        Token("metric", "string", "", "data_gb"),
        Token("threshold", "number", "", 50),
        Token("value", "number", "", 51.2),
    ),
)

TEMPLATE_CATALOGS = {"billing": BILLING_CATALOG}
