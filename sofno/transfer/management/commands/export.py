"""``sofno export KIND``: customers, contacts or devices as CSV or XLSX."""

from __future__ import annotations

import sys
from pathlib import Path

from sofno.core.management.options import DataCommand, add_org_option, find_organization

KINDS = ("contacts", "customers", "devices")


class Command(DataCommand):
    help = "Export customers, contacts or devices as CSV or XLSX (the import's format)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS, help="what to export")
        parser.add_argument(
            "-o", "--output", type=Path, help="a .csv or .xlsx file (default: CSV on stdout)"
        )
        add_org_option(parser)

    def handle(self, *args, kind: str, org: str | None, output: Path | None, **options):
        # Imported here: ``sofno COMMAND --help`` answers without loading the models.
        from sofno.core.access import Actor
        from sofno.core.models import Role
        from sofno.transfer.exporting import export_table
        from sofno.transfer.kinds import KINDS as KIND_TABLE

        fmt = "xlsx" if output is not None and output.suffix.lower() == ".xlsx" else "csv"
        actor = Actor(organization=find_organization(org), role=Role.ADMIN)
        data = export_table(actor, KIND_TABLE[kind], fmt)
        if output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        output.write_bytes(data)
        self.stdout.write(f"{kind}: written to {output}")
