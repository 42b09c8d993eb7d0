"""``sofno import KIND FILE``: customers, contacts or devices from CSV or XLSX."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from sofno.core.management.options import DataCommand, add_org_option, find_organization

KINDS = ("contacts", "customers", "devices")


class Command(DataCommand):
    help = (
        "Import customers, contacts or devices from a CSV or XLSX file, all or nothing. "
        "Rows are matched by their id column, else by name (contacts and devices: "
        "customer and name), so importing again updates instead of duplicating."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS, help="what the file holds")
        parser.add_argument("file", type=Path, help="a .csv or .xlsx file")
        parser.add_argument("--dry-run", action="store_true", help="check only; store nothing")
        add_org_option(parser)

    def handle(self, *args, kind: str, file: Path, org: str | None, dry_run: bool, **options):
        # Imported here: ``sofno COMMAND --help`` answers without loading the models.
        from sofno.core.access import Actor, PermissionDenied
        from sofno.core.models import Role
        from sofno.transfer.importing import ImportRefused, import_rows
        from sofno.transfer.kinds import KINDS as KIND_TABLE
        from sofno.transfer.tables import TableError, detect_format, read_table

        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from exc
        # The command line acts as an administrator of the organization.
        actor = Actor(organization=find_organization(org), role=Role.ADMIN)
        try:
            rows = read_table(data, detect_format(file.name, data))
            report = import_rows(actor, KIND_TABLE[kind], rows, dry_run=dry_run)
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
