from django.contrib import admin
from django.urls import include, path

from sofno.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("sofno.ops.urls")),
    path("api/", api.urls),
    # Machine endpoints owned by each app (pings, provider callbacks, feeds).
    path("", include("sofno.monitoring.urls")),
    path("", include("sofno.events.urls")),
    path("", include("sofno.oncall.urls")),
    path("", include("sofno.notify.urls")),
    path("", include("sofno.tickets.urls")),
    # Pages.
    path("", include("sofno.web.urls")),
]

# A database outage met outside a view answers 503, not 500 (see sofno.ops.views).
handler500 = "sofno.ops.views.server_error"
