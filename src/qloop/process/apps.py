from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcessConfig(AppConfig):
    name = "qloop.process"
    label = "process"
    verbose_name = _("Process")

    def ready(self) -> None:
        # Periodic jobs live in jobs.py (house style); importing registers them with Huey.
        from qloop.process import jobs  # noqa: F401
        from qloop.process.definitions import check_definitions

        check_definitions()
