"""Timestamps become double precision on PostgreSQL.

peewee's FloatField is ``real`` (4 bytes) on PostgreSQL: a Unix time of about 1.8e9 kept 24 bits, so every timestamp
was rounded to 128 seconds. A retry due in 10 ms waited up to two minutes, and ages, dead-letter times and the
lineage's order came out coarse. SQLite's REAL is already 8 bytes: nothing to do there.

``down`` leaves the columns as they are: going back to ``real`` would only throw precision away, and the models of
every release read ``double precision`` correctly.
"""

from __future__ import annotations

from typing import Any

import peewee as pw

# The columns as they were when this migration was written (a frozen list, not read from the models).
COLUMNS: dict[str, tuple[str, ...]] = {
    "source_cursor": ("updated_at", "last_success_at"),
    "staged_lead": ("staged_at", "processed_at"),
    "company": ("created_at",),
    "person": ("created_at",),
    "sink_ref": ("created_at",),
    "link": ("created_at",),
    "outbox": ("next_attempt_at", "claimed_at", "created_at", "updated_at"),
    "dead_letter": ("created_at",),
    "webhook_inbox": ("received_at", "processed_at"),
    "lineage_event": ("at",),
    "mirror_record": ("refreshed_at",),
    "mirror_state": ("refreshed_at",),
    "kv": ("updated_at",),
}


def up(migrator: Any, db: Any) -> None:
    if not isinstance(db, pw.PostgresqlDatabase):
        return
    execute: Any = db.execute_sql  # peewee's is untyped
    for table, columns in COLUMNS.items():
        changes = ", ".join(f'ALTER COLUMN "{c}" TYPE double precision' for c in columns)
        execute(f'ALTER TABLE "{table}" {changes}')


def down(migrator: Any, db: Any) -> None:
    pass
