from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from qloop.api.api import api

admin.site.site_header = "QLoop"
admin.site.site_title = "QLoop"

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("qloop.surveys.urls")),
    path("", include("qloop.web.urls")),
]
