from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "sofno.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"
