from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.urls import include, path

from qloop.api.api import api
from qloop.web.login import AdminLoginForm

admin.site.site_header = "QLoop"
admin.site.site_title = "QLoop"
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("qloop.surveys.urls")),
    # A profile app's own pages: its AppConfig names them (``urls = "qloop.x.urls"``), so the
    # core includes them without importing the profile.
    *(
        path("", include(config.urls))  # type: ignore[attr-defined]
        for config in apps.get_app_configs()
        if isinstance(getattr(config, "urls", None), str)
    ),
    path("", include("qloop.web.urls")),
]
