from django.apps import AppConfig


class TransferConfig(AppConfig):
    name = "sofno.transfer"
    label = "transfer"
    verbose_name = "Import and export"
