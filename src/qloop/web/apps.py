from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "qloop.web"
    label = "web"
