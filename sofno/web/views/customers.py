"""Customer list and detail pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from sofno.core.access import get_scoped_or_404
from sofno.directory.selectors import customers_for
from sofno.web.access import require_actor


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    actor = require_actor(request)
    customers = customers_for(actor)
    query = request.GET.get("q", "").strip()
    if query:
        customers = customers.filter(name__icontains=query)
    return render(request, "web/customers/list.html", {"customers": customers, "q": query})


@login_required
def customer_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = require_actor(request)
    customer = get_scoped_or_404(customers_for(actor), actor, public_id=public_id)
    contacts = customer.contacts.select_related("contact_type")
    return render(
        request, "web/customers/detail.html", {"customer": customer, "contacts": contacts}
    )


patterns = [
    path("", customer_list, name="customer-list"),
    path("<uuid:public_id>/", customer_detail, name="customer-detail"),
]
