from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "qloop.cases"
    label = "cases"
    verbose_name = _("Register")

    def ready(self) -> None:
        from qloop.cases.feedback import FEEDBACK_EFFECTS
        from qloop.cases.uploads import set_pillow_limit
        from qloop.process.effects import register_effects

        register_effects(FEEDBACK_EFFECTS)
        set_pillow_limit()
        from qloop.cases import jobs  # noqa: F401  (periodic jobs)
        from qloop.cases.models import Category, ExtraField
        from qloop.org import refdata

        # Every process's copy of them is dropped when one changes (issue 14).
        refdata.watch(Category, ExtraField)
