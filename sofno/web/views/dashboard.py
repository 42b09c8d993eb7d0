"""Sign-in, sign-out and the dashboard."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET

from sofno.core.scoping import customer_access
from sofno.directory.selectors import customers_for
from sofno.web.access import require_actor

auth_patterns = [
    path(
        "login/",
        customer_access(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("logout/", customer_access(auth_views.LogoutView.as_view()), name="logout"),
]


@login_required
@require_GET
@customer_access
def dashboard(request: HttpRequest) -> HttpResponse:
    """The organization at a glance (a customer user sees their own customer only)."""
    actor = require_actor(request)
    if actor.is_customer_user:
        return redirect("web:portal")  # their own window, made for them
    customers = customers_for(actor)
    context = {
        "customer_count": customers.count(),
        "inactive_customers": customers.filter(active=False).count(),
        "alerts_off": customers.filter(alerts_enabled=False).count(),
        "my_customers": customers.filter(assigned_agents=request.user).order_by("name")[:10],
    }
    return render(request, "web/dashboard.html", context)
