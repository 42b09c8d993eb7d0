from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running SOFNO: health and readiness, metrics, configuration check, backups.

    It sits below every other app (it reads all of them for metrics) and nothing
    imports it.
    """

    name = "sofno.ops"
    label = "ops"
    verbose_name = "Operations"
