"""Opening the store: SQLite's settings for one writer and many readers; PostgreSQL through the same URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from halosync.errors import StoreError
from halosync.store.database import redacted_url
from halosync.store.gateway import Store


def test_sqlite_settings(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/deep/dir/halosync.db", timeout=7)
    try:
        execute: Any = store.db.execute_sql  # untyped in peewee

        def pragma(name: str) -> Any:
            return store.call(lambda: execute(f"PRAGMA {name}").fetchone()[0])

        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 1  # NORMAL
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 7000
        assert store.limiter.total_tokens == 1  # one writer
        assert (tmp_path / "deep" / "dir" / "halosync.db").exists()
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_through_the_same_url(pg_url: str) -> None:
    store = Store(pg_url, pool_size=3)
    try:
        assert not store.sqlite and store.limiter.total_tokens == 3
        execute: Any = store.db.execute_sql  # untyped in peewee
        assert store.call(lambda: execute("SELECT 1").fetchone()[0]) == 1
    finally:
        store.close()


def test_unknown_scheme_and_passwords_in_messages() -> None:
    with pytest.raises(StoreError, match=r"database.url 'mysql://root:\*\*\*\*\*\*\*\*@db/x': use sqlite:///PATH"):
        Store("mysql://root:hunter2-pw@db/x")
    assert redacted_url("postgresql://u:p%40ss@h/db") == "postgresql://u:********@h/db"
    assert redacted_url("sqlite:////var/lib/halosync/halosync.db") == "sqlite:////var/lib/halosync/halosync.db"
