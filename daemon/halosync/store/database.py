"""Open the state store's database from ``database.url``: SQLite (default) or PostgreSQL.

Every statement goes through ``execute_sql``, the one place peewee sends SQL; the store's databases time it there
and hand it to their ``QueryStats`` (slow-query log, ``halosyncctl queries``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import peewee as pw
from playhouse.pool import PooledPostgresqlDatabase

from halosync.errors import StoreError
from halosync.store.querystats import QueryStats


class TimedSqlite(pw.SqliteDatabase):
    stats: QueryStats

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        started = time.perf_counter()
        cursor = super().execute_sql(sql, params)  # type: ignore[no-untyped-call]
        self.stats.record(sql, params, time.perf_counter() - started, self._explain)
        return cursor

    def _explain(self, sql: str, params: Any) -> list[str]:
        cursor = self.cursor()  # type: ignore[no-untyped-call]
        rows = cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params or ()).fetchall()
        return [str(row[-1]) for row in rows]


class TimedPostgresql(PooledPostgresqlDatabase):  # type: ignore[misc]
    stats: QueryStats

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        started = time.perf_counter()
        cursor = super().execute_sql(sql, params)
        self.stats.record(sql, params, time.perf_counter() - started, self._explain)
        return cursor

    def _explain(self, sql: str, params: Any) -> list[str]:
        # In a transaction, a failed EXPLAIN would abort it: a savepoint keeps the unit of work intact.
        guarded = self.in_transaction()
        cursor = self.cursor()
        if guarded:
            cursor.execute("SAVEPOINT halosync_explain")
        try:
            cursor.execute(f"EXPLAIN {sql}", params or ())
            return [str(row[0]) for row in cursor.fetchall()]
        except Exception:
            if guarded:
                cursor.execute("ROLLBACK TO SAVEPOINT halosync_explain")
            raise
        finally:
            if guarded:
                cursor.execute("RELEASE SAVEPOINT halosync_explain")


def open_database(url: str, *, timeout: float = 30.0, pool_size: int = 4,
                  wal_autocheckpoint: int | None = None, stats: QueryStats | None = None) -> pw.Database:
    """A peewee database for ``url`` (not yet connected). SQLite gets WAL, a busy timeout, synchronous=NORMAL and
    foreign keys; its directory is created; ``wal_autocheckpoint`` (pages) replaces SQLite's 1,000 when given.
    PostgreSQL gets a pool of ``pool_size`` connections. Every statement is timed into ``stats`` (its own when
    none is given)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = sqlite_path(url)
        if path not in ("", ":memory:"):
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the database directory {str(Path(path).parent)!r}: {exc.strerror}; "
                    "set daemon.state_dir or database.url to a writable place"
                ) from None
        sqlite = TimedSqlite(
            path or ":memory:",
            timeout=timeout,
            check_same_thread=False,
            pragmas={
                "journal_mode": "wal",
                "synchronous": "normal",
                "foreign_keys": 1,
                "busy_timeout": int(timeout * 1000),
                "cache_size": -16_000,  # 16 MB page cache
                **({"wal_autocheckpoint": wal_autocheckpoint} if wal_autocheckpoint is not None else {}),
            },
        )
        sqlite.stats = stats or QueryStats()
        return sqlite
    if parts.scheme in ("postgres", "postgresql"):
        missing = postgres_driver_missing()
        if missing:
            raise StoreError(missing)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        db = TimedPostgresql(
            unquote(parts.path.lstrip("/")) or "postgres",
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            host=parts.hostname or None,
            port=parts.port or None,
            max_connections=pool_size,
            stale_timeout=300,
            timeout=timeout,
            # The URL's own connect_timeout wins (as a second keyword it was a TypeError).
            **{"connect_timeout": int(max(1, timeout)), **query},
        )
        db.stats = stats or QueryStats()
        return db
    raise StoreError(f"database.url {redacted_url(url)!r}: use sqlite:///PATH or postgresql://USER@HOST/DB")


def postgres_driver_missing() -> str:
    """Why PostgreSQL cannot be used here ("" when it can): its driver is the optional ``[postgresql]`` extra, so
    that SQLite-only installs need no compiled client library. peewee would only say "driver not installed"."""
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return ("PostgreSQL needs the psycopg2 driver, which is not installed: install halosync with its "
                "PostgreSQL extra, pip install 'halosync[postgresql]', in halosync's virtualenv")
    return ""


def sqlite_path(url: str) -> str:
    """The file of an ``sqlite://`` URL ("" or ":memory:" for an in-memory database)."""
    path = unquote(urlsplit(url).path)
    if path.startswith("//") or path.startswith("/"):  # sqlite:////abs/path -> //abs/path
        path = path[1:]
    return path


def redacted_url(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":********@")
        return parts._replace(netloc=netloc).geturl()
    return url


def is_sqlite(db: pw.Database) -> bool:
    return isinstance(db, pw.SqliteDatabase)
