"""Reversible schema migrations (``halosync migrate status|up|down [--to N]``) on peewee's runner.

Migration files live in ``halosync/store/migrations/NNNN_name.py`` with ``up`` and ``down``. Before any
migration changes tables of an existing SQLite database, a backup copy is taken next to it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from playhouse.migrations import MigrationError as PeeweeMigrationError
from playhouse.migrations import Runner

from halosync.errors import MigrationError

if TYPE_CHECKING:
    from halosync.store.gateway import Store

DIRECTORY = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class MigrationStatus:
    number: int
    name: str
    applied_at: str | None


class Migrations:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.runner = Runner(store.db, str(DIRECTORY), table_name="halosync_schema_migration")

    def status(self) -> list[MigrationStatus]:
        return [MigrationStatus(m.idx, m.name, str(m.applied) if m.applied else None) for m in self.runner.status()]

    def current(self) -> int:
        return max((m.number for m in self.status() if m.applied_at), default=0)

    def latest(self) -> int:
        return max((m.number for m in self.status()), default=0)

    def _name(self, number: int) -> str:
        for m in self.status():
            if m.number == number:
                return m.name
        raise MigrationError(f"no migration number {number}; `halosync migrate status` lists them")

    def up(self, to: int | None = None) -> list[str]:
        pending = [m for m in self.status() if not m.applied_at and (to is None or m.number <= to)]
        if not pending:
            return []
        self.backup_before_change()
        try:
            return list(self.runner.up(self._name(to) if to is not None else None))
        except PeeweeMigrationError as exc:
            raise MigrationError(str(exc)) from exc

    def down(self, to: int | None = None) -> list[str]:
        """Revert the latest migration, or with ``to`` every migration above number ``to``."""
        applied = [m for m in self.status() if m.applied_at]
        if not applied:
            return []
        target_rows = [m for m in applied if to is None or m.number > to]
        if not target_rows:
            return []
        self.backup_before_change()
        try:
            if to is None:
                return list(self.runner.down())
            return list(self.runner.down(min(target_rows, key=lambda m: m.number).name))
        except PeeweeMigrationError as exc:
            raise MigrationError(str(exc)) from exc

    def backup_before_change(self) -> Path | None:
        """Copy an existing SQLite database aside (online backup API) before its tables change."""
        if not self.store.sqlite:
            return None
        path = Path(self.store.db.database)
        if str(path) == ":memory:" or not path.exists() or not self.store.db.get_tables():
            return None
        dest = path.with_name(f"{path.name}.pre-migrate-{time.strftime('%Y%m%d-%H%M%S')}.bak")
        self.store.db.connection().backup_to_file(str(dest)) if hasattr(
            self.store.db.connection(), "backup_to_file") else _sqlite_backup(self.store, dest)
        return dest


def _sqlite_backup(store: Store, dest: Path) -> None:
    import sqlite3

    target = sqlite3.connect(str(dest))
    try:
        store.db.connection().backup(target)
    finally:
        target.close()
