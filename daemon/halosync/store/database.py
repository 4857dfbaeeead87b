"""Open the state store's database from ``database.url``: SQLite (default) or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import peewee as pw
from playhouse.pool import PooledPostgresqlDatabase

from halosync.errors import StoreError


def open_database(url: str, *, timeout: float = 30.0, pool_size: int = 4,
                  wal_autocheckpoint: int | None = None) -> pw.Database:
    """A peewee database for ``url`` (not yet connected). SQLite gets WAL, a busy timeout, synchronous=NORMAL and
    foreign keys; its directory is created; ``wal_autocheckpoint`` (pages) replaces SQLite's 1,000 when given.
    PostgreSQL gets a pool of ``pool_size`` connections."""
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
        return pw.SqliteDatabase(
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
    if parts.scheme in ("postgres", "postgresql"):
        missing = postgres_driver_missing()
        if missing:
            raise StoreError(missing)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        db: pw.Database = PooledPostgresqlDatabase(
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
