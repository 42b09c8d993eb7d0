from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "sofno.events"
    label = "events"
    verbose_name = "Events"
