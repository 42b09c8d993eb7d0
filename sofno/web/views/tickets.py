"""Ticket pages: list with filters, detail with history, create, edit, status, assign."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from sofno.core.access import get_scoped_or_404
from sofno.core.models import WRITE_ROLES
from sofno.core.scoping import customer_access
from sofno.core.usernames import sign_in_name, sign_in_name_expression
from sofno.directory.models import ContactType
from sofno.directory.selectors import customers_for
from sofno.notify import reasons
from sofno.notify.models import NotificationRule, RuleEvaluation
from sofno.tickets import actions
from sofno.tickets.models import Priority, TicketSettings, TicketStatus
from sofno.tickets.selectors import tickets_for
from sofno.web.access import require_actor, require_writer
from sofno.web.forms import searchable
from sofno.web.paging import chosen_customer, page_of, sorted_by

# The list's sortable columns (``?sort=key`` or ``-key``).
TICKET_COLUMNS = {
    "number": ["number"],
    "title": ["title"],
    "customer": ["customer__name", "number"],
    "status": ["status__name", "number"],
    "created": ["created_at"],
}


class TicketForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=None, label=_("Customer"))
    title = forms.CharField(max_length=200, label=_("Title"))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    status = forms.ModelChoiceField(queryset=None, required=False, label=_("Status"))
    technicians = forms.ModelMultipleChoiceField(
        queryset=None, required=False, label=_("Technicians")
    )

    def __init__(self, actor, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers_for(actor).order_by("name", "pk")
        searchable(self.fields["customer"])
        self.fields["status"].queryset = TicketStatus.objects.filter(
            organization=actor.organization
        )
        self.fields["technicians"].queryset = technician_choices(actor)
        # str(user) is the server-wide handle; people see the sign-in name.
        self.fields["technicians"].label_from_instance = sign_in_name
        searchable(self.fields["technicians"])
        if actor.is_customer_user:
            del self.fields["status"], self.fields["technicians"]
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")


def technician_choices(actor):
    """Users of the organization whose role may work tickets."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(
            memberships__organization=actor.organization, memberships__role__in=WRITE_ROLES
        )
        .order_by(sign_in_name_expression())
    )


def may_open_tickets(actor) -> bool:
    """Who may open a ticket: a role that changes records, or a customer user (for
    their own customer); a viewer may not."""
    return actor.can_write or actor.is_customer_user


def require_ticket_opener(request: HttpRequest):
    """The actor when it may open tickets; 403 otherwise (the form is not shown)."""
    from django.core.exceptions import PermissionDenied

    actor = require_actor(request)
    if not may_open_tickets(actor):
        raise PermissionDenied(_("Your role may only read."))
    return actor


@login_required
@customer_access
def ticket_list(request: HttpRequest) -> HttpResponse:
    actor = require_actor(request)
    tickets = tickets_for(actor).prefetch_related("technicians")
    state = request.GET.get("state", "open")
    if state == "open":
        tickets = tickets.filter(status__is_open=True)
    elif state == "closed":
        tickets = tickets.filter(status__is_open=False)
    if request.GET.get("mine"):
        tickets = tickets.filter(technicians=request.user)
    if query := request.GET.get("q", "").strip():
        # "#41" or "41" finds ticket 41 as well as titles holding the words.
        number = query.removeprefix("#")
        found = Q(title__icontains=query)
        if number.isdigit() and len(number) < 10:
            found |= Q(number=int(number))
        tickets = tickets.filter(found)
    if customer := chosen_customer(request, actor):
        tickets = tickets.filter(customer=customer)
    tickets, sort = sorted_by(request, tickets, TICKET_COLUMNS, default="-created")
    page = page_of(request, tickets)
    context = {
        "tickets": page.object_list,
        "page": page,
        "state": state,
        "q": query,
        "sort": sort,
        "for_customer": customer,
        "mine": request.GET.get("mine"),
        "may_open": may_open_tickets(actor),
    }
    return render(request, "web/tickets/list.html", context)


@login_required
@customer_access
def ticket_create(request: HttpRequest) -> HttpResponse:
    actor = require_ticket_opener(request)
    form = TicketForm(actor, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = actions.create_ticket(
                acting_user=actor,
                customer=data["customer"],
                title=data["title"],
                description=data["description"],
                priority=data["priority"],
                status=data.get("status"),
                technicians=list(data.get("technicians") or []),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("web:ticket-detail", ticket.public_id)
    return render(request, "web/tickets/form.html", {"form": form})


@login_required
@customer_access
def ticket_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = require_actor(request)
    ticket = get_scoped_or_404(tickets_for(actor), actor, public_id=public_id)
    context = {
        "ticket": ticket,
        "changes": ticket.changes.select_related("actor"),
        "statuses": TicketStatus.objects.filter(organization=actor.organization),
        # Staff names and rule names are not for customer users.
        "technician_choices": [] if actor.is_customer_user else technician_choices(actor),
        "assigned": set(ticket.technicians.values_list("pk", flat=True)),
        "reach_problems": [] if actor.is_customer_user else reach_problems(ticket),
    }
    return render(request, "web/tickets/detail.html", context)


# What the rules engine recorded, before reasons had codes, when someone named by a
# rule could not be reached (routing's "X has no email", recipients' notes).
_UNREACHED = (" has no email", " has no phone", " has no primary ", " has no user account")


def reach_problems(ticket) -> list[str]:
    """Why notifications about this ticket could not reach someone, said plainly.

    Read from the rule evaluations the engine recorded for the ticket's events, so
    the page says what really happened (no email, no account, no primary contact).
    """
    evaluations = RuleEvaluation.objects.filter(
        organization=ticket.organization,
        event__subject=f"ticket:{ticket.public_id}",
        matched=True,
    ).order_by("id")
    problems: list[str] = []
    for evaluation in evaluations:
        for reason in evaluation.reasons:
            if reasons.code_of(reason) in reasons.UNREACHED or (
                isinstance(reason, str) and any(marker in reason for marker in _UNREACHED)
            ):
                text = _("%(rule)s: %(reason)s") % {
                    "rule": evaluation.name_text,
                    "reason": reasons.text(reason),
                }
                if text not in problems:
                    problems.append(text)
    return problems


def require_admin_page(request: HttpRequest):
    """The actor when it administers the organization; 403 otherwise."""
    from django.core.exceptions import PermissionDenied

    actor = require_actor(request)
    if not actor.is_admin:
        raise PermissionDenied(_("Only an owner or admin may do this."))
    return actor


@login_required
@require_http_methods(["GET", "POST"])
def ticket_settings(request: HttpRequest) -> HttpResponse:
    """Settings > Tickets > Notifications: which statuses notify, and how."""
    actor = require_admin_page(request)
    actions.ensure_ticket_defaults(actor.organization)
    statuses = list(TicketStatus.objects.filter(organization=actor.organization))
    contact_types = ContactType.objects.filter(organization=actor.organization)
    current = TicketSettings.objects.get(organization=actor.organization)
    if request.method == "POST":
        chosen = request.POST.get("customer_contact_type", "")
        contact_type = contact_types.filter(slug=chosen).first() if chosen else None
        if chosen and contact_type is None:
            messages.error(request, _("Customer contact type: no such contact type."))
        else:
            toggles = {
                status.slug: {
                    name: request.POST.get(f"{status.slug}:{name}") == "on"
                    for name in actions.NOTIFY_TOGGLES
                }
                for status in statuses
            }
            actions.save_notification_settings(
                acting_user=actor, toggles=toggles, contact_type=contact_type
            )
            messages.success(request, _("Ticket notifications saved."))
            return redirect("web:ticket-settings")
    context = {
        "statuses": statuses,
        "toggles": actions.NOTIFY_TOGGLES[1:],
        "contact_types": contact_types,
        "current_type": current.customer_contact_type,
        "managed_rules": NotificationRule.objects.filter(
            organization=actor.organization, managed_by="tickets"
        ).order_by("name"),
    }
    return render(request, "web/tickets/settings.html", context)


@login_required
@require_POST
def ticket_status(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = require_writer(request)
    ticket = get_scoped_or_404(tickets_for(actor), actor, public_id=public_id)
    status = get_scoped_or_404(TicketStatus.objects, actor, slug=request.POST.get("status", ""))
    actions.change_status(acting_user=actor, ticket=ticket, status=status)
    messages.success(request, _("Status changed to %(status)s.") % {"status": status.name})
    return redirect("web:ticket-detail", ticket.public_id)


@login_required
@require_POST
def ticket_assign(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = require_writer(request)
    ticket = get_scoped_or_404(tickets_for(actor), actor, public_id=public_id)
    ids = request.POST.getlist("technicians")
    technicians = list(technician_choices(actor).filter(pk__in=[i for i in ids if i.isdigit()]))
    actions.assign(acting_user=actor, ticket=ticket, technicians=technicians)
    messages.success(request, _("Technicians updated."))
    return redirect("web:ticket-detail", ticket.public_id)


patterns = [
    path("", ticket_list, name="ticket-list"),
    path("new/", ticket_create, name="ticket-create"),
    path("settings/", ticket_settings, name="ticket-settings"),
    path("<uuid:public_id>/", ticket_detail, name="ticket-detail"),
    path("<uuid:public_id>/status/", ticket_status, name="ticket-status"),
    path("<uuid:public_id>/assign/", ticket_assign, name="ticket-assign"),
]
