from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "qloop.reports"
    label = "reports"
    verbose_name = _("Reports and management review")

    def ready(self) -> None:
        # Periodic jobs live in jobs.py (house style); importing registers them with Huey.
        from qloop.reports import jobs  # noqa: F401
        from qloop.reports.notices import register_kinds

        register_kinds()
