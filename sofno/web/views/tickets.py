"""Ticket pages: list with filters, detail with history, create, edit, status, assign."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from sofno.core.access import get_scoped_or_404
from sofno.core.models import WRITE_ROLES
from sofno.directory.selectors import customers_for
from sofno.tickets import actions
from sofno.tickets.models import Priority, TicketStatus
from sofno.tickets.selectors import tickets_for
from sofno.web.access import require_actor, require_writer


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
        self.fields["customer"].queryset = customers_for(actor)
        self.fields["status"].queryset = TicketStatus.objects.filter(
            organization=actor.organization
        )
        self.fields["technicians"].queryset = technician_choices(actor)
        if actor.is_customer_user:
            del self.fields["status"], self.fields["technicians"]
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")


def technician_choices(actor):
    """Users of the organization whose role may work tickets."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(
        memberships__organization=actor.organization, memberships__role__in=WRITE_ROLES
    )


@login_required
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
        tickets = tickets.filter(title__icontains=query)
    context = {
        "tickets": tickets[:200],
        "state": state,
        "q": query,
        "mine": request.GET.get("mine"),
    }
    return render(request, "web/tickets/list.html", context)


@login_required
def ticket_create(request: HttpRequest) -> HttpResponse:
    actor = require_actor(request)
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
def ticket_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = require_actor(request)
    ticket = get_scoped_or_404(tickets_for(actor), actor, public_id=public_id)
    context = {
        "ticket": ticket,
        "changes": ticket.changes.select_related("actor"),
        "statuses": TicketStatus.objects.filter(organization=actor.organization),
        "technician_choices": technician_choices(actor),
        "assigned": set(ticket.technicians.values_list("pk", flat=True)),
        "reach_problems": reach_problems(ticket),
    }
    return render(request, "web/tickets/detail.html", context)


def reach_problems(ticket) -> list[str]:
    """Why a notification about this ticket could not reach someone, said plainly."""
    problems = []
    for user in ticket.technicians.all():
        if not user.email:
            problems.append(_("%(name)s has no email address.") % {"name": user.get_username()})
    return problems


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
    path("<uuid:public_id>/", ticket_detail, name="ticket-detail"),
    path("<uuid:public_id>/status/", ticket_status, name="ticket-status"),
    path("<uuid:public_id>/assign/", ticket_assign, name="ticket-assign"),
]
