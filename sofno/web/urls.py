"""Page URLs. Each area's patterns live in its own views module."""

from django.urls import include, path

from sofno.web.views import customers, dashboard

app_name = "web"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("", include(dashboard.auth_patterns)),
    path("customers/", include(customers.patterns)),
]
