"""Issue 16, personal data: the suppression list, and an index the retention pruner walks.

``suppression`` holds who must never be synced, as keyed hashes (``halosync.engine.suppression``). The index on
``staged_lead(processed_at, id)`` lets the pruner find raw records older than ``[retention] raw_records_days`` a
small batch at a time, without scanning every staged lead.
"""

from __future__ import annotations

from typing import Any

from halosync.store.models import Suppression

INDEX = "staged_lead_processed_at_id"


def up(migrator: Any, db: Any) -> None:
    with db.bind_ctx([Suppression]):
        db.create_tables([Suppression], safe=True)
    execute: Any = db.execute_sql
    execute(f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "staged_lead" ("processed_at", "id")')


def down(migrator: Any, db: Any) -> None:
    execute: Any = db.execute_sql
    execute(f'DROP INDEX IF EXISTS "{INDEX}"')
    with db.bind_ctx([Suppression]):
        db.drop_tables([Suppression], safe=True)
