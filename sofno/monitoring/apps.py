from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "sofno.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from sofno.core.hooks import register_demo_runner, register_demo_seeder, register_loop
        from sofno.events.catalog import register
        from sofno.monitoring import demo, demo_agents, retention, sweeper
        from sofno.monitoring.events import EVENT_TYPES

        register(*EVENT_TYPES)
        register_loop("offline-sweeper", sweeper.run, interval=sweeper.WATCH_SECONDS)
        register_loop("monitoring.prune", retention.prune, interval=600.0)
        register_demo_seeder(demo.seed)
        register_demo_runner(demo_agents.start)
