from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sofno.core"
    label = "core"
    verbose_name = "Core"
