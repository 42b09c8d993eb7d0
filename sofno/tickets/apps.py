from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "sofno.tickets"
    label = "tickets"
    verbose_name = "Tickets"
