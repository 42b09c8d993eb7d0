from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OncallConfig(AppConfig):
    name = "sofno.oncall"
    label = "oncall"
    verbose_name = "Oncall"

    def ready(self) -> None:
        from sofno.core.hooks import register_demo_seeder, register_loop
        from sofno.events.catalog import EventType, Token, register
        from sofno.oncall import demo, queue, reminders

        register(
            EventType(
                "oncall.timetable.published",
                _("A week's phone timetable was published and is now current."),
                tokens=(
                    Token("timetable_id", "string", _("the timetable's id")),
                    Token("week_start", "string", _("Monday of the week"), "2026-11-23"),
                ),
                category="oncall",
            ),
            EventType(
                "oncall.settings.updated",
                _("The on-call settings (turns, days, lines, reminders, ...) were saved."),
                tokens=(Token("changed", "array", _("names of the fields saved"), ["turns"]),),
                category="oncall",
            ),
            EventType(
                "oncall.call.ringing",
                _("The phone system reported a call ringing at an agent's extension."),
                tokens=(
                    Token("call_id", "string", _("the call's id")),
                    Token("phone", "string", _("the caller's number"), "+390612345678"),
                    Token("extension", "string", _("the answering extension"), "201"),
                    Token("customers", "object", _("names of the matching customers")),
                ),
                category="oncall",
            ),
            EventType(
                "oncall.queue.programmed",
                _("The phone queue's members were set to a turn's people."),
                tokens=(
                    Token("slot", "string", _("the turn's start, or manual")),
                    Token("members", "object", _("the extensions now in the queue")),
                ),
                category="oncall",
            ),
        )
        register(reminders.TURN_STARTED_TYPE)
        register_loop("oncall-queue", queue.tick, interval=15.0)
        register_loop("oncall.turn_reminders", reminders.tick, interval=15.0)
        register_demo_seeder(demo.seed)
