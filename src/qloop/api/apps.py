from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "qloop.api"
    label = "api"
