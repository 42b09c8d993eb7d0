from django.contrib import admin
from django.urls import include, path

from sofno.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("sofno.web.urls")),
]
