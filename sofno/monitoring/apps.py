from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "sofno.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from sofno.core.hooks import register_demo_seeder, register_loop
        from sofno.events.catalog import register
        from sofno.events.emit import on_committed
        from sofno.monitoring import demo, reactions, retention, sweeper
        from sofno.monitoring.events import EVENT_TYPES

        register(*EVENT_TYPES)
        # customer.updated (alerts turned back on) releases held-back alerts.
        on_committed(reactions.on_events_committed)
        register_loop("offline-sweeper", sweeper.run, interval=sweeper.WATCH_SECONDS)
        register_loop("monitoring.prune", retention.prune, interval=600.0)
        register_demo_seeder(demo.seed)
