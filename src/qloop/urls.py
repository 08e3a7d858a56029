from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.urls import Resolver404, include, path
from django.urls.resolvers import RoutePattern, URLResolver

from qloop.api.api import api
from qloop.web.login import AdminLoginForm

admin.site.site_header = "QLoop"
admin.site.site_title = "QLoop"
admin.site.login_form = AdminLoginForm


class RootInclude(URLResolver):
    """``path("", include(urlconf))`` that first checks the address against the beginnings
    its patterns can have: a page of the site is otherwise tried against every pattern of the
    surveys and the profile apps (some 60 regular expressions, 3 % of a case page; bench/
    RESULTS-pages.md section 7). An address none of them can begin with is refused with
    the ``Resolver404`` Django's loop would raise (every pattern listed as tried); with a
    pattern of unknown beginning (a regular expression, a converter first) it is Django's."""

    @classmethod
    def of(cls, urlconf: str) -> RootInclude:
        module, app_name, namespace = include(urlconf)
        return cls(RoutePattern("", is_endpoint=False), module, None, app_name, namespace)

    def beginnings(self) -> tuple[str, ...] | None:
        """The literal text before each pattern's first converter, or None if one has none."""
        found = self.__dict__.get("_beginnings", False)
        if found is False:
            found = []
            for pattern in self.url_patterns:
                route: Any = pattern.pattern
                # A translated route (lazy) begins differently per language: not kept.
                written = (
                    getattr(route, "_route", None) if isinstance(route, RoutePattern) else None
                )
                text = written.split("<", 1)[0] if type(written) is str else ""
                if not text:
                    found = None
                    break
                found.append(text)
            found = self.__dict__["_beginnings"] = tuple(found) if found is not None else None
        return found  # type: ignore[no-any-return]

    def resolve(self, path: Any) -> Any:
        beginnings = self.beginnings()
        text = str(path)
        if beginnings is not None and not text.startswith(beginnings):
            # What URLResolver.resolve raises when no pattern matches: "" matched, each
            # pattern tried (a URLPattern answers None, an include refuses without "tried").
            raise Resolver404({"tried": [[p] for p in self.url_patterns], "path": text})
        return super().resolve(path)


urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    RootInclude.of("qloop.surveys.urls"),
    # A profile app's own pages: its AppConfig names them (``urls = "qloop.x.urls"``), so the
    # core includes them without importing the profile.
    *(
        RootInclude.of(config.urls)  # type: ignore[attr-defined]
        for config in apps.get_app_configs()
        if isinstance(getattr(config, "urls", None), str)
    ),
    path("", include("qloop.web.urls")),
]
