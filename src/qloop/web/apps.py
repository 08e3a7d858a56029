from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "qloop.web"
    label = "web"

    def ready(self) -> None:
        # The site is the last of QLoop's apps in INSTALLED_APPS (settings.py keeps it so):
        # by now every profile has registered its kinds, processes and step effects.
        from qloop.process.definitions import check_definitions

        check_definitions()
