from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from sofno.core.management.options import DataCommand


class Command(DataCommand):
    help = "Delete events older than the retention (SOFNO_EVENT_RETENTION_DAYS, default 90)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="override the configured retention")

    def handle(self, *args: Any, days: int | None, **options: Any) -> None:
        # Imported here: the models load with Django, and --help answers without them.
        from sofno.events.retention import prune, retention_days

        days = retention_days() if days is None else days
        count = prune(days)
        self.stdout.write(f"pruned {count} events older than {days} days")
