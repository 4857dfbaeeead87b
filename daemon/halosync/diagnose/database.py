"""Database checks: connect, write, migrations current, and the connection pool's headroom.

Synchronous (peewee); the runner calls them in a worker thread under a deadline. The write check changes nothing:
it creates a table, writes a row and rolls both back, which proves the permissions migrations and the daemon need.
"""

from __future__ import annotations

from typing import Any

import peewee as pw

from halosync.config.loader import Config
from halosync.contracts import CheckResult
from halosync.daemon import lock
from halosync.diagnose.store_checks import schema_check
from halosync.errors import StoreError
from halosync.store.backup import sqlite_path
from halosync.store.database import open_database, redacted_url
from halosync.store.models import loads

PROBE_TABLE = "halosync_diagnose_probe"


def database_checks(config: Config, timeout: float) -> list[CheckResult]:
    url = config.database_url
    shown = redacted_url(url)
    sqlite = url.startswith("sqlite:")
    if sqlite and not (path := sqlite_path(url)).exists():
        return [CheckResult("database.connect", "warn", f"no store yet at {path}",
                            "the daemon creates it when it first starts (or run `halosync migrate up`)")]
    try:
        db = open_database(url, timeout=min(timeout, float(config.get("database.timeout"))), pool_size=1)
        db.connect()
    except (StoreError, pw.PeeweeException) as exc:
        hint = ("check that daemon.state_dir (or the path in database.url) exists and the daemon's user may write it"
                if sqlite else "check that PostgreSQL runs and accepts this user (pg_hba.conf), and database.url")
        return [CheckResult("database.connect", "fail", f"cannot open {shown}: {_one_line(exc)}", hint)]
    try:
        version = _server_version(db, sqlite)
        results = [CheckResult("database.connect", "pass", f"connected to {shown} ({version})")]
        results.append(_write_probe(db, sqlite))
        results.append(schema_check(db))
        results.append(_pool(db, config, sqlite))
        results.append(daemons_check(db, url, config))  # issue 18
        return results
    finally:
        db.close()
        if hasattr(db, "close_all"):
            db.close_all()


def _server_version(db: pw.Database, sqlite: bool) -> str:
    query = "SELECT sqlite_version()" if sqlite else "SHOW server_version"
    row = _sql(db, query).fetchone()
    return f"{'SQLite' if sqlite else 'PostgreSQL'} {row[0] if row else '?'}"


def _write_probe(db: pw.Database, sqlite: bool) -> CheckResult:
    try:
        with db.manual_commit():
            db.begin()
            try:
                _sql(db, f"CREATE TABLE {PROBE_TABLE} (x INTEGER)")
                _sql(db, f"INSERT INTO {PROBE_TABLE} (x) VALUES (1)")
            finally:
                db.rollback()
    except pw.PeeweeException as exc:
        hint = ("make the database file and its directory writable by the daemon's user "
                "(chown -R halosync:halosync /var/lib/halosync)" if sqlite
                else "GRANT CREATE, USAGE ON SCHEMA ... and write privileges on the tables to the daemon's user")
        return CheckResult("database.write", "fail", f"cannot write: {_one_line(exc)}", hint)
    return CheckResult("database.write", "pass", "a table can be created and written (rolled back)")


def _pool(db: pw.Database, config: Config, sqlite: bool) -> CheckResult:
    if sqlite:
        mode = _sql(db, "PRAGMA journal_mode").fetchone()
        journal = str(mode[0]) if mode else "?"
        if journal.lower() != "wal":
            return CheckResult("database.pool", "warn", f"journal_mode is {journal}, not wal",
                               "the daemon switches it to WAL when it opens the store; on a network filesystem WAL "
                               "cannot work: keep the state dir on a local disk")
        return CheckResult("database.pool", "pass", "SQLite: one writer, WAL lets readers run alongside")
    wanted = int(config.get("database.pool_size"))
    row = _sql(db,
        "SELECT current_setting('max_connections')::int, "
        "(SELECT count(*) FROM pg_stat_activity), "
        "current_setting('superuser_reserved_connections')::int"
    ).fetchone()
    limit, used, reserved = (int(v) for v in row) if row else (0, 0, 0)
    free = limit - reserved - used
    message = f"{used} of {limit} connections in use ({reserved} reserved); database.pool_size = {wanted}"
    if free < wanted:
        return CheckResult("database.pool", "fail", message + f": only {free} free",
                           "raise max_connections on the server, or lower database.pool_size")
    if free < 2 * wanted:
        return CheckResult("database.pool", "warn", message + f": {free} free",
                           "another daemon on this database would exhaust it; raise max_connections")
    return CheckResult("database.pool", "pass", message)


def _sql(db: pw.Database, query: str) -> Any:
    execute: Any = db.execute_sql  # untyped in peewee
    return execute(query)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def daemons_check(db: pw.Database, url: str, config: Config) -> CheckResult:
    """Issue 18: how many daemons share this store. SQLite: one at most (a second is refused at start);
    PostgreSQL: any number, one polling each source (their heartbeats in ha_member)."""
    name = "database.daemons"
    if url.startswith("sqlite:"):
        pid = lock.database_holder(sqlite_path(url).resolve())
        if pid is None:
            return CheckResult(name, "pass", "no daemon runs on this SQLite store now; one daemon per SQLite store "
                               "(a second one is refused at start)")
        return CheckResult(name, "pass", f"one daemon (pid {pid}) runs on this SQLite store; a second daemon on it "
                           "is refused at start", "for several daemons (failover), move the store to PostgreSQL "
                           "(README: \"Running two or three daemons\")")
    lease = float(config.get("ha.lease_seconds", 15.0))
    try:
        rows = _sql(db, "SELECT host, pid, polls, extract(epoch from clock_timestamp()) - heartbeat_at FROM ha_member"
                        " ORDER BY started_at").fetchall()
    except pw.PeeweeException:
        db.rollback()
        return CheckResult(name, "warn", "this store has no high-availability tables yet (schema before 0004)",
                           "`halosync migrate up`, or start the daemon, to create them")
    live = [r for r in rows if float(r[3]) < 3 * lease]
    if not live:
        return CheckResult(name, "pass", "no daemon heartbeats in this PostgreSQL store now; several daemons may "
                           "share it (one polls each source, the others stand by)")
    shown = "; ".join(f"{host} pid {pid} ({'polls ' + ', '.join(loads(polls)) if loads(polls) else 'standby'}, "
                      f"heartbeat {float(age):.0f} s ago)" for host, pid, polls, age in live)
    count = len(live)
    return CheckResult(name, "pass", f"{count} daemon{'s' if count > 1 else ''} share{'' if count > 1 else 's'} "
                       f"this PostgreSQL store (fine: one polls each source, the others stand by): {shown}")
