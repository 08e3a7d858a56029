from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "qloop.org"
    label = "org"
    verbose_name = _("Organisation")


class LoginAttemptsConfig(AxesAppConfig):
    """django-axes under a name people understand, in the administration's list of apps."""

    verbose_name = _("Login attempts")
