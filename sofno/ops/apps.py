from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running SOFNO: health and readiness, metrics, configuration check, backups,
    abuse limits.

    It sits below every other app (it reads all of them for metrics) and nothing
    imports it.
    """

    name = "sofno.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from sofno.core.hooks import register_loop
        from sofno.ops import throttle

        user_login_failed.connect(throttle.record_login_failure, dispatch_uid="ops-login-failed")
        user_logged_in.connect(throttle.clear_login_failures, dispatch_uid="ops-login-ok")
        register_loop("ops-prune-rate-counters", throttle.prune, interval=600)
