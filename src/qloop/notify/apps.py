from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "qloop.notify"
    label = "notify"
    verbose_name = _("Messages")

    def ready(self) -> None:
        # Periodic jobs live in jobs.py (house style); importing registers them with Huey.
        from qloop.notify import jobs  # noqa: F401
        from qloop.notify.models import MessageTemplate
        from qloop.notify.texts import forget_templates

        def changed(**_kwargs: object) -> None:
            # Now for this process, and again after the commit, so that no other process
            # caches the old words in between.
            forget_templates()
            transaction.on_commit(forget_templates)

        post_save.connect(
            changed, sender=MessageTemplate, weak=False, dispatch_uid="notify-templates-saved"
        )
        post_delete.connect(
            changed, sender=MessageTemplate, weak=False, dispatch_uid="notify-templates-gone"
        )
