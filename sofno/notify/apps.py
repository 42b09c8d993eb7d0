from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "sofno.notify"
    label = "notify"
    verbose_name = "Notify"
