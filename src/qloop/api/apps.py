from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "qloop.api"
    label = "api"

    def ready(self) -> None:
        # Periodic jobs live in jobs.py (house style); importing registers them with Huey.
        from qloop.api import jobs  # noqa: F401
