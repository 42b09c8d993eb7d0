"""``sofno export KIND -o FILE``: customers, contacts or devices as CSV or XLSX."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from sofno.transfer.commands import organization_actor
from sofno.transfer.exporting import export_table
from sofno.transfer.kinds import KINDS


class Command(BaseCommand):
    help = "Export customers, contacts or devices as CSV or XLSX (the import's format)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS), help="what to export")
        parser.add_argument("--org", required=True, help="the organization's slug")
        parser.add_argument(
            "-o",
            "--output",
            type=Path,
            help="a .csv or .xlsx file (default: CSV on stdout)",
        )

    def handle(self, *args, kind: str, org: str, output: Path | None, **options):
        fmt = "xlsx" if output is not None and output.suffix.lower() == ".xlsx" else "csv"
        data = export_table(organization_actor(org), KINDS[kind], fmt)
        if output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        output.write_bytes(data)
        self.stdout.write(f"{kind}: written to {output}")
