"""Export customers, contacts or devices as the same table the import reads."""

from __future__ import annotations

from sofno.core.access import Actor
from sofno.transfer.kinds import Kind
from sofno.transfer.tables import write_table


def export_table(actor: Actor, kind: Kind, fmt: str) -> bytes:
    """Every row of ``kind`` in the actor's organization as CSV or XLSX bytes.

    The first column is each row's id, so importing the file again matches every
    row to itself and changes nothing.
    """
    actor.require_staff()
    columns = ["id", *(column.name for column in kind.columns)]
    rows = [kind.export_row(obj) for obj in kind.queryset(actor).order_by("name", "pk")]
    return write_table(columns, rows, fmt)
