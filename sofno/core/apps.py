from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sofno.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from sofno.core.backends import enter_own_organization

        user_logged_in.connect(enter_own_organization, dispatch_uid="core-own-organization")
