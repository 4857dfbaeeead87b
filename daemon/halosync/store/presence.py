"""Whether a state store exists yet, asked without creating one: for the read-only commands (``halosync migrate
status``, ``halosync integrity``), which must neither create an empty SQLite file nor fail on a missing table.

A store exists once its schema does: the migration history table (or, for a store older than the history, the
``link`` table). An SQLite file is opened read-only for the question; a PostgreSQL database is asked through the
catalogue.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import peewee as pw

from halosync.errors import StoreError
from halosync.store.database import open_database, redacted_url, sqlite_path
from halosync.store.migrations_runner import HISTORY_TABLE

MARKERS = (HISTORY_TABLE, "link")
CREATE_HINT = "`halosync migrate up` creates it (`halosync run` does too, at start)"


def missing_store(url: str, *, timeout: float = 30.0) -> str | None:
    """Why there is no store at ``url`` yet, in a sentence that says how to make one; None when there is one."""
    if urlsplit(url).scheme == "sqlite":
        path = sqlite_path(url)
        if path in ("", ":memory:"):
            return None
        if not Path(path).is_file():
            return f"there is no store yet: {path} does not exist; {CREATE_HINT}"
        try:
            connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
            try:
                names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                connection.close()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot read {path}: {exc}; is it a halosync store?") from None
        if not names & set(MARKERS):
            return f"there is no store yet: {path} holds no halosync tables; {CREATE_HINT}"
        return None
    db = open_database(url, timeout=timeout, pool_size=1)
    try:
        db.connect()
        present = any(db.table_exists(name) for name in MARKERS)
    except pw.DatabaseError as exc:
        raise StoreError(f"cannot reach the database {redacted_url(url)}: {str(exc).strip()}") from None
    finally:
        db.close()
    return None if present else f"there is no store yet in {redacted_url(url)}; {CREATE_HINT}"
