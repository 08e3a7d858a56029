from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CapaConfig(AppConfig):
    name = "qloop.capa"
    label = "capa"
    verbose_name = _("Investigation and corrective action")
