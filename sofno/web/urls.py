"""Page URLs. Each area's patterns live in its own views module."""

from django.urls import include, path

from sofno.web.views import (
    account,
    customers,
    dashboard,
    devices,
    events,
    incidents,
    install,
    notifications,
    oncall,
    portal,
    settings_api_keys,
    settings_common,
    settings_events,
    settings_members,
    sla,
    status_pages,
    ticket_conversation,
    tickets,
    transfer,
    webhooks,
)

app_name = "web"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("", include(dashboard.auth_patterns)),
    path("", include(install.patterns)),
    path("", include(dashboard.patterns)),
    path("me/", include(account.patterns)),
    path("portal/", include(portal.patterns)),
    path("customers/", include(customers.patterns)),
    path("customers/", include(status_pages.patterns)),
    path("customers/", include(sla.patterns)),
    path("", include(status_pages.public_patterns)),
    path("devices/", include(devices.patterns)),
    path("incidents/", include(incidents.patterns)),
    path("events/", include(events.patterns)),
    path("webhooks/", include(webhooks.patterns)),
    path("oncall/", include(oncall.patterns)),
    path("notifications/", include(notifications.patterns)),
    path("tickets/", include(tickets.patterns)),
    path("tickets/", include(ticket_conversation.patterns)),
    path("import/", include(transfer.patterns)),
    path("settings/", include(settings_common.patterns)),
    path("settings/", include(settings_members.patterns)),
    path("settings/", include(settings_api_keys.patterns)),
    path("settings/", include(settings_events.patterns)),
    path("", include(settings_members.public_patterns)),
]
