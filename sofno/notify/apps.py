from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "sofno.notify"
    label = "notify"
    verbose_name = "Notify"

    def ready(self) -> None:
        from sofno.core.hooks import register_demo_seeder, register_loop
        from sofno.events import catalog
        from sofno.events.emit import on_committed
        from sofno.notify.channels.webhook import demo
        from sofno.notify.channels.webhook.event_types import WEBHOOK_EVENTS
        from sofno.notify.escalation import chain as escalation
        from sofno.notify.routing import dispatcher

        catalog.register(*WEBHOOK_EVENTS)
        # One dispatcher plans every event for webhook endpoints and rules alike.
        on_committed(dispatcher.on_events_committed)
        register_loop("notify.reconcile", dispatcher.reconcile, interval=1.0)
        register_loop("notify.escalation", escalation.tick, interval=5.0)
        register_demo_seeder(demo.seed)
        from sofno.notify.escalation.phone_events import PHONE_EVENTS
        from sofno.notify.rules import demo as rule_demo

        catalog.register(*PHONE_EVENTS)
        register_demo_seeder(rule_demo.seed)
        from sofno.events.emit import on_emitted
        from sofno.notify.rules import ticket_rules, turn_rules

        # The managed rules follow tickets' and oncall's settings in the same
        # transaction as the change, so they exist when the request returns.
        on_emitted(ticket_rules.STATUS_EVENTS, ticket_rules.statuses_changed)
        on_emitted(["ticket.created"], ticket_rules.ticket_created)
        on_emitted(["oncall.settings.updated"], turn_rules.settings_updated)
        on_emitted(["oncall.timetable.published"], turn_rules.timetable_published)
        register_loop("notify.incident_tickets", ticket_rules.open_incident_tickets, interval=30.0)
        # What was recently sent about a customer shows when that customer calls.
        from sofno.notify.delivery.callinfo import recent_notifications
        from sofno.oncall.callinfo import register_section

        register_section("recent_notifications", recent_notifications)
        from sofno.notify.delivery import retention

        register_loop("notify.prune", retention.prune, interval=3600.0)
