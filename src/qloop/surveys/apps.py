from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "qloop.surveys"
    label = "surveys"
    verbose_name = _("Customer satisfaction surveys")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Periodic jobs live in jobs.py (house style); importing registers them with Huey.
        from qloop.org.models import Profile
        from qloop.surveys import jobs  # noqa: F401
        from qloop.surveys.access import can_see_results
        from qloop.surveys.notices import register_kinds
        from qloop.web.nav import NavItem, register_nav

        register_kinds()
        register_nav(
            NavItem(
                _("Surveys"),
                "survey-home",
                Profile.MANUFACTURER,
                shown_to=can_see_results,
                order=20,
            )
        )
