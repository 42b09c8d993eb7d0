"""Import a table of customers, contacts or devices: all or nothing.

Rules:
- Each row is matched to an existing one by its ``id`` column when filled, else by
  its natural key (a customer's name; a contact's or device's customer and name), so
  importing the same file again updates rather than duplicates.
- A column the file does not have, or a cell left empty, keeps the stored value (a
  new row gets the default): a partial spreadsheet never wipes data.
- Every row is checked with the same actions the API uses, each in a savepoint, so
  every error of the file is reported at once, with its line and column.
- Nothing is stored unless the whole file is valid; ``dry_run`` checks and reports
  without storing anything either.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from sofno.core.access import Actor
from sofno.transfer.kinds import CellError, Kind, customer_for, errors_by_field
from sofno.transfer.tables import Row

# Columns whose cell names another row of the organization rather than a value.
_RESOLVERS = {"customer": customer_for}


@dataclass(frozen=True)
class LineError:
    """What is wrong, where: spreadsheet line and column ("" for the whole row)."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = _("line %(line)d") % {"line": self.line}
        if self.column:
            where += ", " + _("column %(column)s") % {"column": self.column}
        return f"{where}: {self.message}"


@dataclass
class Report:
    """What an import did (or would do, for a dry run or a refused file)."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)
    # New devices' keys (device name, key): shown once, never stored in plain.
    keys: list[tuple[str, str]] = field(default_factory=list)
    stored: bool = False


class ImportRefused(Exception):
    """The file as a whole cannot be imported (unknown columns, missing ones)."""


def import_rows(actor: Actor, kind: Kind, rows: list[Row], *, dry_run: bool = False) -> Report:
    """Import ``rows`` of ``kind`` for the actor's organization; see the module rules."""
    actor.require_write()
    actor.require_staff()
    _check_columns(kind, rows)
    report = Report(kind.name)
    with transaction.atomic():
        existing = list(kind.queryset(actor))
        by_id = {str(obj.public_id): obj for obj in existing}
        by_key = _by_natural_key(kind, existing)
        seen: dict[tuple, int] = {}
        for row in rows:
            _import_row(actor, kind, row, by_id, by_key, seen, report)
        if report.errors or dry_run:
            transaction.set_rollback(True)
            report.keys = []
        else:
            report.stored = True
    return report


def _check_columns(kind: Kind, rows: list[Row]) -> None:
    names = set(rows[0].cells) if rows else set()
    unknown = sorted(names - {"id"} - {c.name for c in kind.columns})
    if unknown:
        known = ", ".join(["id", *(c.name for c in kind.columns)])
        raise ImportRefused(
            _("unknown column %(name)r; the columns of %(kind)s are: %(known)s")
            % {"name": unknown[0], "kind": kind.name, "known": known}
        )
    missing = [name for name in kind.required if rows and name not in names]
    if missing and "id" not in names:
        raise ImportRefused(_("the column %(name)r is required") % {"name": missing[0]})


def _by_natural_key(kind: Kind, existing: list[Model]) -> dict[tuple, Model | None]:
    """Existing rows by natural key; ``None`` where two rows share one (ambiguous)."""
    found: dict[tuple, Model | None] = {}
    for obj in existing:
        key = kind.key_of(obj)
        found[key] = None if key in found else obj
    return found


def _import_row(actor, kind, row, by_id, by_key, seen, report) -> None:
    errors: list[LineError] = []
    fields = _fields(actor, kind, row, errors)
    target = _match(kind, row, fields, by_id, by_key, errors)
    if errors:
        report.errors.extend(errors)
        return
    if target is None:
        missing = [n for n in kind.required if n not in fields]
        if missing:
            report.errors.append(LineError(row.line, missing[0], _("required for a new row")))
            return
    key = kind.natural_key({**_current(kind, target), **fields})
    if key in seen:
        report.errors.append(
            LineError(row.line, "", _("same row as line %(line)d") % {"line": seen[key]})
        )
        return
    seen[key] = row.line
    _save(actor, kind, row, target, fields, report)


def _fields(actor: Actor, kind: Kind, row: Row, errors: list[LineError]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for column in kind.columns:
        raw = row.cells.get(column.name, "")
        if raw == "":
            continue  # left empty: keep what is stored
        try:
            resolver = _RESOLVERS.get(column.name)
            fields[column.target] = resolver(actor, raw) if resolver else column.parse(raw)
        except CellError as exc:
            errors.append(LineError(row.line, column.name, str(exc)))
    return fields


def _match(kind, row, fields, by_id, by_key, errors) -> Model | None:
    raw_id = row.cells.get("id", "")
    if raw_id:
        try:
            found = by_id.get(str(uuid.UUID(raw_id)))
        except ValueError:
            found = None
        if found is None:
            errors.append(LineError(row.line, "id", _("no stored row has this id")))
        return found
    if errors or any(name not in fields for name in kind.required):
        return None
    key = kind.natural_key(fields)
    if key in by_key and by_key[key] is None:
        errors.append(LineError(row.line, "", _("several stored rows match this one: give its id")))
    return by_key.get(key)


def _current(kind: Kind, target: Model | None) -> dict[str, Any]:
    if target is None:
        return {}
    return {c.target: getattr(target, c.target) for c in kind.columns}


def _save(actor, kind, row, target, fields, report) -> None:
    try:
        with transaction.atomic():  # a savepoint: a refused row leaves nothing behind
            if target is None:
                obj, key = kind.create(actor, fields)
                report.created += 1
                if key:
                    report.keys.append((obj.name, key))
                return
            changed = {
                column.target: fields[column.target]
                for column in kind.columns
                if column.target in fields
                and column.show(getattr(target, column.target))
                != column.show(fields[column.target])
            }
            if not changed:
                report.unchanged += 1
                return
            kind.update(actor, target, changed)
            report.updated += 1
    except ValidationError as exc:
        for name, messages in errors_by_field(exc).items():
            column = name if name == "" or kind.column(name) else ""
            for message in messages:
                report.errors.append(LineError(row.line, column, message))
