from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "sofno.web"
    label = "web"
    verbose_name = "Web"
