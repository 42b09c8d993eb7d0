from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone

from sofno.core.management.options import DataCommand
from sofno.ops.backup import BackupError, backup


class Command(DataCommand):
    help = "Back up the database (SQLite or PostgreSQL) to a file, while SOFNO runs."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="file to write (default: timestamped name)")
        parser.add_argument("--data", help="data directory (embedded database)")

    def handle(self, *args, output: str | None, **options):
        target = Path(output or f"sofno-backup-{timezone.now():%Y%m%d-%H%M%S}.dump")
        try:
            path = backup(target)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"backup written to {path} ({path.stat().st_size} bytes)")
