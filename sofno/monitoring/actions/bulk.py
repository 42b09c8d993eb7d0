"""Bulk SQL writes shared by the sweep, the sites and recovery: many rows, one statement.

The monitoring hot paths (a mass outage flips thousands of devices at once) write
rows of already adapted values without building model instances.
"""

from __future__ import annotations

import json

from django.db import connection

from sofno.monitoring.models import Incident


def insert_rows(
    model, columns: list[str], rows: list[tuple], returning: str = "", skip_conflicts=False
) -> list[tuple]:
    """One ``INSERT`` of many rows of already adapted values (no model instances).

    - On PostgreSQL the rows travel as one JSON parameter expanded by
      ``json_populate_recordset``: quoting one string is far cheaper than binding
      thousands of parameters (or text arrays) with client-side binding;
    - a ``dict`` value fills a JSON column: nested in that parameter on PostgreSQL
      (a JSON text there would land as a JSON string), as JSON text on SQLite.
    """
    if not rows:
        return []
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    # Identifiers come from model metadata; every value is a parameter.
    if connection.vendor == "postgresql":
        sql = f"INSERT INTO {table} ({names}) SELECT {names} FROM json_populate_recordset(NULL::{table}, %s)"  # noqa: E501, S608
        params = [json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str)]
    else:
        # SQLite caps the parameters of one statement (32,766): insert in chunks.
        size = max(1, 30_000 // len(columns))
        if len(rows) > size:
            return [
                found
                for start in range(0, len(rows), size)
                for found in insert_rows(
                    model, columns, rows[start : start + size], returning, skip_conflicts
                )
            ]
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(rows))}"  # noqa: S608
        params = [json.dumps(v) if type(v) is dict else v for row in rows for v in row]
    if skip_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {returning}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


INCIDENT_COLUMNS = [
    "organization_id",
    "public_id",
    "device_id",
    "customer_id",
    "kind",
    "devices_down",
    "devices_total",
    "status",
    "title",
    "opened_at",
    "auto_resolved",
    "alert_due_at",
    "alerted_at",
    "suppressed_reason",
    "flaps",
]


def insert_incidents(incidents, *, returning: str, skip_conflicts: bool = False) -> list[tuple]:
    """One ``INSERT`` of new (device or site) incidents built in memory; the sweep's and
    the sites' batches share it."""
    adapt = connection.ops.adapt_datetimefield_value
    native_uuid = connection.features.has_native_uuid_field
    rows = [
        (
            i.organization_id,
            i.public_id if native_uuid else i.public_id.hex,
            i.device_id,
            i.customer_id,
            i.kind,
            i.devices_down,
            i.devices_total,
            i.status,
            i.title,
            adapt(i.opened_at),
            False,
            adapt(i.alert_due_at),
            adapt(i.alerted_at),
            "",
            0,
        )
        for i in incidents
    ]
    return insert_rows(
        Incident, INCIDENT_COLUMNS, rows, returning=returning, skip_conflicts=skip_conflicts
    )


def update_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """Set ``columns`` of many rows by id in one statement (``rows``: id first, then
    the columns' already adapted values); ``bulk_update``'s CASE per row is far
    slower for hundreds of rows."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    sets = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in columns)
    if connection.vendor == "postgresql":
        names = ["id", *columns]
        records = [dict(zip(names, row, strict=True)) for row in rows]
        # Identifiers come from model metadata; the rows are one parameter.
        sql = (
            f"UPDATE {table} SET {sets} FROM json_populate_recordset(NULL::{table}, %s) v "  # noqa: S608
            f"WHERE {table}.id = v.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [json.dumps(records, default=str)])
        return
    sets = ", ".join(f"{quote(c)} = %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {sets} WHERE id = %s",  # noqa: S608
            [(*row[1:], row[0]) for row in rows],
        )
