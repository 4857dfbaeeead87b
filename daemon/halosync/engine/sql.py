"""Bulk statements without peewee's per-query cost, for the hot paths (staging, lineage, planning, results).

peewee builds each query from an expression tree, which costs far more than SQLite takes to run it; a page of
leads makes hundreds of similar statements. These helpers send plain parameterised SQL (``executemany`` for many
rows), with values converted by the model's own fields (JSON columns encoded), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import peewee as pw

BATCH = 250  # PostgreSQL: statements sent in one round trip by ``_many``

# The planner's advisory lock (PostgreSQL): settling a create and planning a duplicate of it never interleave.
# Keyed by the store's schema too, so daemons of one store serialise while stores sharing a database do not.
PLANNER_LOCK_SQL = "SELECT pg_advisory_xact_lock(7142001, hashtext(current_schema()))"


def _db(model: type[pw.Model]) -> Any:
    return model._meta.database


def _prepared(model: type[pw.Model], rows: Sequence[Mapping[str, Any]]) -> tuple[str, list[str], list[list[Any]]]:
    fields = model._meta.fields
    names = list(rows[0])
    columns = [fields[n].column_name for n in names]
    params = [[fields[n].db_value(row[n]) for n in names] for row in rows]
    return model._meta.table_name, columns, params


def _names(columns: list[str]) -> str:
    return ", ".join('"' + c + '"' for c in columns)


def insert_rows(model: type[pw.Model], rows: Sequence[Mapping[str, Any]], *, ignore_conflicts: bool = False) -> None:
    """INSERT many rows that share the same keys (``ON CONFLICT DO NOTHING`` when ``ignore_conflicts``)."""
    if not rows:
        return
    db = _db(model)
    table, columns, params = _prepared(model, rows)
    marks = ", ".join([db.param] * len(columns))
    sql = f'INSERT INTO "{table}" ({_names(columns)}) VALUES ({marks})'
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    _many(db, sql, params)


def insert_one(model: type[pw.Model], row: Mapping[str, Any]) -> int:
    """INSERT one row and return its id."""
    db = _db(model)
    table, columns, params = _prepared(model, [row])
    marks = ", ".join([db.param] * len(columns))
    sql = f'INSERT INTO "{table}" ({_names(columns)}) VALUES ({marks})'
    if db.param == "%s":  # PostgreSQL: ids come back with RETURNING
        cursor = db.execute_sql(sql + ' RETURNING "id"', params[0])
        return int(cursor.fetchone()[0])
    cursor = db.execute_sql(sql, params[0])
    return int(cursor.lastrowid)


def update_rows(model: type[pw.Model], key: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """UPDATE each row's other columns WHERE ``key`` matches; rows share the same keys."""
    if not rows:
        return
    db = _db(model)
    fields = model._meta.fields
    names = [n for n in rows[0] if n != key]
    sets = ", ".join(f'"{fields[n].column_name}" = {db.param}' for n in names)
    sql = f'UPDATE "{model._meta.table_name}" SET {sets} WHERE "{fields[key].column_name}" = {db.param}'
    params = [[fields[n].db_value(row[n]) for n in names] + [fields[key].db_value(row[key])] for row in rows]
    _many(db, sql, params)


def upsert_rows(model: type[pw.Model], rows: Sequence[Mapping[str, Any]], conflict: Sequence[str],
                update: Sequence[str]) -> None:
    """INSERT many rows; a row whose ``conflict`` columns exist already updates its ``update`` columns."""
    if not rows:
        return
    db = _db(model)
    fields = model._meta.fields
    table, columns, params = _prepared(model, rows)
    marks = ", ".join([db.param] * len(columns))
    target = _names([fields[n].column_name for n in conflict])
    sets = ", ".join(f'"{fields[n].column_name}" = excluded."{fields[n].column_name}"' for n in update)
    sql = f'INSERT INTO "{table}" ({_names(columns)}) VALUES ({marks}) ON CONFLICT ({target}) DO UPDATE SET {sets}'
    _many(db, sql, params)


def _many(db: Any, sql: str, params: list[list[Any]]) -> None:
    """One statement for each row of ``params``. SQLite's ``executemany`` runs them in-process; psycopg2's sends
    each in its own round trip to the server, so PostgreSQL gets them ``BATCH`` at a time in one message."""
    cursor = db.cursor()
    if db.param == "%s":
        from psycopg2.extras import execute_batch

        execute_batch(cursor, sql, params, page_size=BATCH)
    else:
        cursor.executemany(sql, params)


def select_in(model: type[pw.Model], columns: Sequence[str], key: str, values: Sequence[Any],
              equal: Mapping[str, Any] | None = None, *, null: Sequence[str] = (),
              size: int = 500) -> list[tuple[Any, ...]]:
    """``columns`` of the rows whose ``key`` is one of ``values`` (queried ``size`` at a time), the ``equal``
    columns equal to their values and the ``null`` columns NULL; values converted by the model's fields."""
    db = _db(model)
    fields = model._meta.fields
    equal = equal or {}
    conditions = [f'"{fields[n].column_name}" = {db.param}' for n in equal]
    conditions += [f'"{fields[n].column_name}" IS NULL' for n in null]
    fixed = [fields[n].db_value(v) for n, v in equal.items()]
    convert = [fields[c].python_value for c in columns]
    head = f'SELECT {_names([fields[c].column_name for c in columns])} FROM "{model._meta.table_name}" WHERE '
    out: list[tuple[Any, ...]] = []
    to_db = fields[key].db_value
    for start in range(0, len(values), size):
        part = [to_db(v) for v in values[start:start + size]]
        where = " AND ".join([*conditions, f'"{fields[key].column_name}" IN ({", ".join([db.param] * len(part))})'])
        for row in db.execute_sql(head + where, fixed + part).fetchall():
            out.append(tuple(f(v) for f, v in zip(convert, row, strict=True)))
    return out
