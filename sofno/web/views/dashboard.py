"""Sign-in, sign-out and the dashboard."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from sofno.directory.models import Customer
from sofno.web.access import require_actor

auth_patterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The organization at a glance."""
    actor = require_actor(request)
    customers = Customer.objects.filter(organization=actor.organization)
    context = {
        "customer_count": customers.count(),
        "inactive_customers": customers.filter(active=False).count(),
    }
    return render(request, "web/dashboard.html", context)
