from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "sofno.oncall"
    label = "oncall"
    verbose_name = "Oncall"
