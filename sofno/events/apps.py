from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "sofno.events"
    label = "events"
    verbose_name = "Events"

    def ready(self) -> None:
        from sofno.core.hooks import register_demo_seeder, register_loop
        from sofno.events import catalog, demo, retention, triggers
        from sofno.events.event_types import DIRECTORY_EVENTS

        catalog.register(*DIRECTORY_EVENTS)
        triggers.connect_record_triggers()
        register_loop("events.triggers", triggers.fire_due, interval=2.0)
        register_loop("events.prune", retention.prune, interval=3600.0)
        register_demo_seeder(demo.seed)
