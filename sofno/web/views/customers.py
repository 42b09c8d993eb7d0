"""Customer pages: list, detail, create and edit, and their contacts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from sofno.core.access import get_scoped_or_404
from sofno.core.scoping import customer_access
from sofno.core.usernames import sign_in_name_expression
from sofno.directory import actions
from sofno.directory.models import Contact, Customer
from sofno.directory.selectors import contacts_for, customers_for
from sofno.monitoring.models import IncidentStatus
from sofno.monitoring.selectors import devices_for, incidents_for
from sofno.tickets.selectors import tickets_for
from sofno.web.access import require_actor, require_writer
from sofno.web.forms import ContactForm, CustomerForm, add_action_errors
from sofno.web.paging import page_of, sorted_by

# How many devices, open incidents and open tickets the customer page shows; the
# "see all" links lead to the whole filtered list.
DETAIL_ROWS = 10

# The list's sortable columns (``?sort=key`` or ``-key``).
CUSTOMER_COLUMNS = {
    "name": ["name"],
    "city": ["city", "name"],
    "timezone": ["timezone", "name"],
    "status": ["active", "alerts_enabled", "name"],
}


@login_required
@require_GET
@customer_access
def customer_list(request: HttpRequest) -> HttpResponse:
    actor = require_actor(request)
    customers = customers_for(actor)
    query = request.GET.get("q", "").strip()
    if query:
        customers = customers.filter(name__icontains=query)
    customers, sort = sorted_by(request, customers, CUSTOMER_COLUMNS, default="name")
    page = page_of(request, customers)
    context = {"customers": page.object_list, "page": page, "q": query, "sort": sort}
    return render(request, "web/customers/list.html", context)


@login_required
@require_GET
@customer_access
def customer_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = require_actor(request)
    customer = get_scoped_or_404(customers_for(actor), actor, public_id=public_id)
    devices = devices_for(actor).filter(customer=customer).order_by("name", "pk")
    incidents = (
        incidents_for(actor)
        .filter(customer=customer, status__in=[IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED])
        .order_by("-opened_at", "-pk")
    )
    tickets = (
        tickets_for(actor).filter(customer=customer, status__is_open=True).order_by("-created_at")
    )
    context = {
        "customer": customer,
        "now": timezone.now(),
        "devices": devices[:DETAIL_ROWS],
        "device_count": devices.count(),
        "incidents": incidents[:DETAIL_ROWS],
        "incident_count": incidents.count(),
        "tickets": tickets[:DETAIL_ROWS],
        "ticket_count": tickets.count(),
        "contacts": customer.contacts.select_related("contact_type"),
        "agents": customer.assigned_agents.order_by(sign_in_name_expression()),
        "hours": customer.hours(),
    }
    return render(request, "web/customers/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    actor = require_writer(request)
    form = CustomerForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            customer = actions.create_customer(acting_user=actor, fields=form.action_fields())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
            return redirect("web:customer-detail", customer.public_id)
    return render(request, "web/customers/form.html", {"form": form, "customer": None})


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = require_writer(request)
    customer = get_scoped_or_404(customers_for(actor), actor, public_id=public_id)
    # The form works on a copy so a rejected change never touches the stored row.
    form = CustomerForm(
        request.POST or None, instance=Customer.objects.get(pk=customer.pk), actor=actor
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_customer(
                acting_user=actor, customer=customer, fields=form.action_fields()
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, _("Customer saved."))
            return redirect("web:customer-detail", customer.public_id)
    return render(request, "web/customers/form.html", {"form": form, "customer": customer})


@login_required
@require_http_methods(["GET", "POST"])
def contact_add(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = require_writer(request)
    customer = get_scoped_or_404(customers_for(actor), actor, public_id=public_id)
    form = ContactForm(request.POST or None, actor=actor, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            contact = actions.create_contact(acting_user=actor, fields=form.action_fields())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, _("Contact %(name)s added.") % {"name": contact.name})
            return redirect("web:customer-detail", customer.public_id)
    context = {"form": form, "customer": customer, "contact": None}
    return render(request, "web/customers/contact_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, public_id: str, contact_id: str) -> HttpResponse:
    actor = require_writer(request)
    contact = get_scoped_or_404(
        contacts_for(actor), actor, public_id=contact_id, customer__public_id=public_id
    )
    # The form works on a copy so a rejected change never touches the stored row.
    form = ContactForm(
        request.POST or None,
        instance=Contact.objects.get(pk=contact.pk),
        actor=actor,
        customer=contact.customer,
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_contact(acting_user=actor, contact=contact, fields=form.action_fields())
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("web:customer-detail", contact.customer.public_id)
    context = {"form": form, "customer": contact.customer, "contact": contact}
    return render(request, "web/customers/contact_form.html", context)


patterns = [
    path("", customer_list, name="customer-list"),
    path("new/", customer_create, name="customer-create"),
    path("<uuid:public_id>/", customer_detail, name="customer-detail"),
    path("<uuid:public_id>/edit/", customer_edit, name="customer-edit"),
    path("<uuid:public_id>/contacts/new/", contact_add, name="contact-add"),
    path("<uuid:public_id>/contacts/<uuid:contact_id>/edit/", contact_edit, name="contact-edit"),
]
