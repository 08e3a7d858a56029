from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CapaConfig(AppConfig):
    name = "qloop.capa"
    label = "capa"
    verbose_name = _("Investigation and corrective action")

    def ready(self) -> None:
        from qloop.capa.effects import CAPA_EFFECTS
        from qloop.process.effects import register_effects

        register_effects(CAPA_EFFECTS)
