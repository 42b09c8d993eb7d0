from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from sofno.core.management.options import DataCommand
from sofno.ops.backup import BackupError, restore


class Command(DataCommand):
    help = "Restore the database from a backup file. Stop SOFNO's processes first."

    def add_arguments(self, parser):
        parser.add_argument("file", help="a file written by 'sofno backup'")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument("--data", help="data directory (embedded database)")

    def handle(self, *args, file: str, yes: bool, **options):
        if not yes:
            answer = input("This replaces everything in the database. Type 'restore' to go on: ")
            if answer.strip() != "restore":
                raise CommandError("restore cancelled")
        try:
            restore(Path(file))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restored from {file}")
