"""Reversible migrations on both databases, the SQLite backup taken before tables change, `halosync migrate`."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from halosync.cli.main import main
from halosync.errors import MigrationError
from halosync.store.gateway import Store
from halosync.store.migrations_runner import HISTORY_TABLE, Migrations
from halosync.store.models import MODELS, StagedLead

MIGRATION_2 = '''
import peewee as pw


def up(migrator, db):
    migrator.migrate(migrator.add_column("staged_lead", "note", pw.TextField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("staged_lead", "note"))
'''


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    """The shipped migrations plus a second one that changes a table, as a later release would add."""
    from halosync.store.migrations_runner import DIRECTORY

    target = tmp_path / "migrations"
    target.mkdir()
    for source in DIRECTORY.glob("[0-9]*.py"):
        (target / source.name).write_text(source.read_text())
    (target / "0900_staged_note.py").write_text(MIGRATION_2)
    return target


def columns(store: Store, table: str) -> set[str]:
    return {c.name for c in store.call(store.db.get_columns, table)}


def test_up_and_down_on_both_databases(db_url: str, directory: Path) -> None:
    store = Store(db_url)
    migrations = Migrations(store, directory)
    try:
        assert store.call(migrations.current) == 0
        assert store.call(migrations.up, 1) == ["0001_initial"]
        assert {m._meta.table_name for m in MODELS} <= set(store.tables())
        assert "note" not in columns(store, "staged_lead")
        assert store.call(migrations.up) == ["0002_double_precision_times", "0003_personal_data", "0900_staged_note"]
        assert "note" in columns(store, "staged_lead")
        assert store.call(migrations.up) == []  # nothing pending: nothing done
        assert [(m.number, m.applied_at is not None) for m in store.call(migrations.status)] == [
            (1, True), (2, True), (3, True), (900, True)]

        assert store.call(migrations.down) == ["0900_staged_note"]
        assert "note" not in columns(store, "staged_lead") and store.call(migrations.current) == 3
        store.call(migrations.up)
        assert store.call(migrations.down, 0) == [
            "0900_staged_note", "0003_personal_data", "0002_double_precision_times", "0001_initial"]
        assert set(store.tables()) <= {HISTORY_TABLE}
        assert store.call(migrations.current) == 0
        with pytest.raises(MigrationError, match="no migration number 7"):
            store.call(migrations.up, 7)
    finally:
        store.close()


def test_data_survives_an_added_column(db_url: str, directory: Path) -> None:
    store = Store(db_url)
    migrations = Migrations(store, directory)
    try:
        store.call(migrations.up, 1)
        store.call(lambda: StagedLead.create(source="s", source_id="1", payload={"a": 1}, content_hash="h"))
        store.call(migrations.up)
        store.call(migrations.down, 1)
        assert store.call(lambda: StagedLead.get().payload) == {"a": 1}
    finally:
        store.close()


def test_sqlite_backup_before_tables_change(tmp_path: Path, directory: Path) -> None:
    db = tmp_path / "halosync.db"
    store = Store(f"sqlite:///{db}")
    migrations = Migrations(store, directory)
    try:
        store.call(migrations.up, 1)
        assert list(tmp_path.glob("*.bak")) == []  # a new database has nothing to lose
        store.call(lambda: StagedLead.create(source="s", source_id="1", payload={}, content_hash="h"))
        db.chmod(0o600)
        store.call(migrations.up)
        [backup] = tmp_path.glob("halosync.db.pre-migrate-*.bak")
        assert backup.stat().st_mode & 0o777 == 0o600
        with sqlite3.connect(backup) as copy:
            assert copy.execute("SELECT source_id FROM staged_lead").fetchall() == [("1",)]
            assert "note" not in {row[1] for row in copy.execute("PRAGMA table_info(staged_lead)")}
            assert copy.execute(f"SELECT name FROM {HISTORY_TABLE}").fetchall() == [("0001_initial",)]
        store.call(migrations.down)  # a second change in the same second keeps both copies
        assert len(list(tmp_path.glob("halosync.db.pre-migrate-*.bak"))) == 2
    finally:
        store.close()


def test_migrate_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "halosync.toml"
    config.write_text(f'[daemon]\nstate_dir = "{tmp_path}"\n')
    assert main(["--config", str(config), "migrate", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["current"] == 0 and status["migrations"][0] == {"number": 1, "name": "0001_initial",
                                                                  "applied_at": None}
    assert main(["--config", str(config), "migrate", "up"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("applied: 0001_initial, 0002_double_precision_times, 0003_personal_data\n")
    assert f"database sqlite:///{tmp_path}/halosync.db" in out
    assert main(["--config", str(config), "migrate", "down", "--to", "0"]) == 0
    reverted = "reverted: 0003_personal_data, 0002_double_precision_times, 0001_initial\n"
    assert capsys.readouterr().out.startswith(reverted)
    assert list(tmp_path.glob("halosync.db.pre-migrate-*.bak"))
    assert main(["--config", str(config), "migrate", "down", "--to", "5"]) == 1
    assert "no migration number 5" in capsys.readouterr().err
    assert main(["--config", str(config), "migrate", "status", "--to", "1"]) == 2


@pytest.mark.postgres
async def test_daemons_starting_together_migrate_once(pg_url: str) -> None:
    import trio

    stores = [Store(pg_url, pool_size=1) for _ in range(4)]
    try:
        async with trio.open_nursery() as nursery:
            for store in stores:
                nursery.start_soon(store.run, store.create_schema)
        assert stores[0].call(Migrations(stores[0]).current) == stores[0].call(Migrations(stores[0]).latest)
    finally:
        for store in stores:
            store.close()


@pytest.mark.postgres
def test_timestamps_of_an_older_postgresql_store_become_double_precision(pg_url: str) -> None:
    """Stores made before 0002 kept times as ``real`` (rounded to 128 s): a retry due in a second waited minutes."""
    store = Store(pg_url)
    migrations = Migrations(store)
    try:
        store.call(migrations.up, 1)
        execute: Any = store.db.execute_sql  # untyped in peewee
        store.call(lambda: execute('ALTER TABLE "outbox" ALTER COLUMN "next_attempt_at" TYPE real'))
        store.call(migrations.up)
        kinds = dict(store.call(lambda: execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'outbox'").fetchall()))
        assert kinds["next_attempt_at"] == kinds["created_at"] == "double precision"
        due = time.time() + 0.25
        store.call(lambda: StagedLead.create(source="s", source_id="1", payload={}, content_hash="h", staged_at=due))
        assert abs(store.call(lambda: StagedLead.get().staged_at) - due) < 1e-3
    finally:
        store.close()
