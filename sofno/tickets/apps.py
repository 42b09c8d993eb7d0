from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "sofno.tickets"
    label = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from sofno.core.hooks import register_demo_seeder
        from sofno.core.models import Organization
        from sofno.events import catalog
        from sofno.tickets import demo, event_types, signals

        post_save.connect(signals.create_ticket_defaults, sender=Organization)
        catalog.register(*event_types.TICKET_EVENTS)
        register_demo_seeder(demo.seed)
