from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_clock_definitions(**_kwargs: Any) -> None:
    from qloop.process.clocks import ensure_definitions

    ensure_definitions()


class ProcessConfig(AppConfig):
    name = "qloop.process"
    label = "process"
    verbose_name = _("Process")

    def ready(self) -> None:
        # Periodic jobs live in jobs.py (house style); importing registers them with Huey.
        from qloop.org import refdata
        from qloop.process import jobs  # noqa: F401
        from qloop.process.models import ClockDefinition, EscalationStep

        # Every process's copy of them is dropped when one changes (issue 14).
        refdata.watch(ClockDefinition, EscalationStep)

        # Administrators find every clock's definition ready to edit after migrating.
        post_migrate.connect(_ensure_clock_definitions, sender=self, dispatch_uid="clock-defs")
