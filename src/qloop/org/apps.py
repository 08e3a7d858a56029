from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    # Two configs live in this module: without ``default`` Django would use neither for
    # "qloop.org", and ready() (jobs, message kinds) would never run.
    default = True
    name = "qloop.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        # Periodic jobs live in jobs.py (house style); importing registers them with Huey.
        from qloop.org import (
            holidays,
            jobs,  # noqa: F401
            notices,
        )

        notices.register_kinds()
        from qloop.org import refdata
        from qloop.org.models import Department, Membership, Organisation, Role

        # Every process's copy of the profiles, intake departments and the departments holding
        # each role is dropped when they change (issue 14).
        refdata.watch(Organisation, Department, Membership, Role)
        holidays.register_kinds()


class LoginAttemptsConfig(AxesAppConfig):
    """django-axes under a name people understand, in the administration's list of apps."""

    verbose_name = _("Login attempts")
