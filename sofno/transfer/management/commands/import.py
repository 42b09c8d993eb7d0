"""``sofno import KIND FILE``: customers, contacts or devices from CSV or XLSX."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sofno.core.access import PermissionDenied
from sofno.transfer.commands import organization_actor
from sofno.transfer.importing import ImportRefused, import_rows
from sofno.transfer.kinds import KINDS
from sofno.transfer.tables import TableError, detect_format, read_table


class Command(BaseCommand):
    help = (
        "Import customers, contacts or devices from a CSV or XLSX file, all or nothing. "
        "Rows are matched by their id column, else by name (contacts and devices: "
        "customer and name), so importing again updates instead of duplicating."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS), help="what the file holds")
        parser.add_argument("file", type=Path, help="a .csv or .xlsx file")
        parser.add_argument("--org", required=True, help="the organization's slug")
        parser.add_argument("--dry-run", action="store_true", help="check only; store nothing")

    def handle(self, *args, kind: str, file: Path, org: str, dry_run: bool, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from exc
        actor = organization_actor(org)
        try:
            rows = read_table(data, detect_format(file.name, data))
            report = import_rows(actor, KINDS[kind], rows, dry_run=dry_run)
        except (TableError, ImportRefused, PermissionDenied) as exc:
            raise CommandError(f"{file}: {exc}") from exc
        for error in report.errors:
            self.stderr.write(f"{file}: {error}")
        if report.errors:
            raise CommandError(
                f"{len(report.errors)} error(s); nothing was imported (all or nothing)."
            )
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{kind}: {report.created} {verb} created, {report.updated} updated, "
            f"{report.unchanged} unchanged." + (" Nothing was stored (dry run)." if dry_run else "")
        )
        if report.keys:
            self.stdout.write("New device keys (shown only now):")
            for name, key in report.keys:
                self.stdout.write(f"  {name}: {key}")
