"""Reversible schema migrations (``halosync migrate status|up|down [--to N]``) on peewee's runner.

Migration files live in ``halosync/store/migrations/NNNN_name.py`` with ``up`` and ``down``. Before any
migration changes tables of an existing SQLite database, a backup copy is taken next to it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from loguru import logger
from playhouse.migrations import MigrationError as PeeweeMigrationError
from playhouse.migrations import Runner

from halosync.errors import MigrationError

DIRECTORY = Path(__file__).with_name("migrations")
HISTORY_TABLE = "halosync_schema_migration"
ADVISORY_LOCK = 0x68616C6F  # "halo": with the schema, the advisory lock key that serialises migrations of a store


@dataclass(frozen=True)
class MigrationStatus:
    number: int
    name: str
    applied_at: str | None


class MigratedStore(Protocol):
    """What migrating needs of a store (``halosync.store.gateway.Store`` has it): the store builds migrations
    to bring its own schema up to date, so this module must not depend on the store's class."""

    @property
    def db(self) -> Any: ...  # the peewee database
    @property
    def sqlite(self) -> bool: ...
    @property
    def timeout(self) -> float: ...


class Migrations:
    def __init__(self, store: MigratedStore, directory: Path = DIRECTORY) -> None:
        self.store = store
        self.runner = Runner(store.db, str(directory), table_name=HISTORY_TABLE)

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
        """Apply pending migrations (up to and including number ``to``); returns the names applied."""
        target = self._name(to) if to is not None else None
        with self._exclusive():
            pending = [m for m in self.status() if not m.applied_at and (to is None or m.number <= to)]
            if not pending:
                return []
            self.backup_before_change()
            try:
                return list(self.runner.up(target))
            except PeeweeMigrationError as exc:
                raise MigrationError(str(exc)) from exc

    def down(self, to: int | None = None) -> list[str]:
        """Revert the latest migration, or with ``to`` every migration above number ``to``."""
        if to is not None and to != 0:
            self._name(to)  # an unknown number is an error, not "nothing to do"
        with self._exclusive():
            applied = [m for m in self.status() if m.applied_at]
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

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """On PostgreSQL several daemons may start at once against one store: one migrates, the others wait for it
        and then find nothing pending (a session advisory lock on this connection). SQLite has one writer anyway."""
        if self.store.sqlite:
            yield
            return
        db: Any = self.store.db  # peewee's execute_sql is untyped
        db.execute_sql("SELECT pg_advisory_lock(%s, hashtext(current_schema()))", (ADVISORY_LOCK,))
        try:
            yield
        finally:
            db.execute_sql("SELECT pg_advisory_unlock(%s, hashtext(current_schema()))", (ADVISORY_LOCK,))

    def backup_before_change(self) -> Path | None:
        """Copy an existing SQLite database aside (SQLite's online backup API, consistent under WAL) before its
        tables change; returns the copy's path, or None when there is nothing to lose (a new or empty database,
        or PostgreSQL, whose backups are the operator's pg_dump)."""
        if not self.store.sqlite:
            return None
        path = Path(self.store.db.database)
        if str(path) == ":memory:" or not path.exists():
            return None
        if not set(self.store.db.get_tables()) - {HISTORY_TABLE}:
            return None
        dest = _backup_name(path)
        # A connection of its own: the backup must not run inside whatever the store's connection is doing.
        source = sqlite3.connect(str(path), timeout=self.store.timeout)
        target = sqlite3.connect(str(dest))
        try:
            source.backup(target)
        except sqlite3.Error as exc:
            dest.unlink(missing_ok=True)
            raise MigrationError(f"could not back up {str(path)!r} before migrating ({exc}); nothing was changed. "
                                 "Check free space and permissions next to the database") from exc
        finally:
            target.close()
            source.close()
        os.chmod(dest, path.stat().st_mode & 0o777)  # the copy holds the same data: same permissions
        logger.info("backed up {} to {} before migrating", path, dest)
        return dest


def _backup_name(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest = path.with_name(f"{path.name}.pre-migrate-{stamp}.bak")
    counter = 1
    while dest.exists():  # two migrations in one second must not overwrite the first copy
        counter += 1
        dest = path.with_name(f"{path.name}.pre-migrate-{stamp}-{counter}.bak")
    return dest
