"""Checks of one state store's contents: schema version, SQLite's own integrity check, and the data integrity
checks of ``halosync.inspect``. ``halosync diagnose`` runs the schema check on the live store; ``halosync
restore`` runs all of them on a backup before using it, and on the store after restoring it.

They open their own peewee database (never the models' global proxy), so checking a backup file does not
redirect a store that is open in the same process.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import peewee as pw
import trio
from playhouse.migrations import Runner

from halosync.contracts import CheckResult, CheckStatus
from halosync.store.backup import HISTORY_TABLE
from halosync.store.database import open_database
from halosync.store.migrations_runner import DIRECTORY


def schema_versions(db: pw.Database) -> tuple[int, int]:
    """(applied, latest known to this halosync) migration numbers; applied is 0 for an empty store."""
    status = Runner(db, str(DIRECTORY), table_name=HISTORY_TABLE).status()
    applied = max((m.idx for m in status if m.applied), default=0)
    latest = max((m.idx for m in status if m.path is not None), default=0)
    return applied, latest


def schema_check(db: pw.Database, *, name: str = "database.migrations") -> CheckResult:
    applied, latest = schema_versions(db)
    if applied == 0:
        return CheckResult(name, "warn", "the store has no schema yet",
                           "start the daemon, or run `halosync migrate up`, to create it")
    if applied < latest:
        return CheckResult(name, "warn", f"schema version {applied}, this halosync expects {latest}",
                           "`halosync migrate up` (the daemon also migrates when it starts; a backup is taken first)")
    if applied > latest:
        return CheckResult(name, "fail", f"schema version {applied} is newer than this halosync knows ({latest})",
                           "a newer halosync wrote this store: upgrade halosync, or `halosync migrate down --to "
                           f"{latest}` with the newer version first")
    return CheckResult(name, "pass", f"schema version {applied} is current")


def _read_only(path: Path) -> pw.SqliteDatabase:
    """A connection that cannot change the file (no WAL switch, no journal left behind)."""
    return pw.SqliteDatabase(f"file:{path}?mode=ro", uri=True)


def sqlite_integrity(path: Path, *, name: str = "store.sqlite_integrity") -> CheckResult:
    """``PRAGMA integrity_check`` on the SQLite file at ``path``, read-only."""
    db = _read_only(path)
    execute: Any = db.execute_sql  # untyped in peewee
    try:
        rows = [str(r[0]) for r in execute("PRAGMA integrity_check").fetchall()]
    except (pw.PeeweeException, sqlite3.Error) as exc:  # fetching reports damage unwrapped by peewee
        return CheckResult(name, "fail", f"{path}: cannot be read as SQLite: {exc}",
                           "the file is damaged or not a halosync store; use another backup")
    finally:
        db.close()
    if rows == ["ok"]:
        return CheckResult(name, "pass", "PRAGMA integrity_check: ok")
    shown = "; ".join(rows[:3]) + (f" (+{len(rows) - 3} more)" if len(rows) > 3 else "")
    return CheckResult(name, "fail", f"PRAGMA integrity_check: {shown}",
                       "the database file is damaged: restore an older backup")


def sqlite_backup_checks(path: Path) -> list[CheckResult]:
    """What a SQLite backup must pass before it replaces a store: readable, intact, a schema this halosync knows."""
    results = [sqlite_integrity(path, name="backup.sqlite_integrity")]
    if results[0].status == "fail":
        return results
    db = _read_only(path)
    try:
        results.append(schema_check(db, name="backup.schema"))
    except (pw.PeeweeException, sqlite3.Error) as exc:
        results.append(CheckResult("backup.schema", "fail", f"cannot read the schema: {exc}",
                                   "the file is not a halosync store"))
    finally:
        db.close()
    return results


def inspect_checks(url: str) -> list[CheckResult]:
    """The data integrity checks of ``halosync.inspect`` (the same as ``halosync integrity --mirror-only``), as
    check lines. Offline: links are checked against the local sink mirror, not the sink itself."""
    from halosync.inspect.integrity import run_checks  # the store's models, imported only when a store is checked
    from halosync.store.gateway import Store

    store = Store(url, pool_size=1)
    try:
        report: dict[str, Any] = trio.run(run_checks, store)
    finally:
        store.close()
    out = []
    for check in report["checks"]:
        problems = int(check["problems"]) - int(check.get("repaired", 0))
        status: CheckStatus = "pass" if check["ok"] else "fail"
        details = "; ".join(_detail(d) for d in list(check["details"])[:3])
        message = "ok" if status == "pass" else f"{problems} problem(s)" + (f": {details}" if details else "")
        out.append(CheckResult(f"store.integrity.{check['name']}", status, message,
                               "" if status == "pass" else "`halosync integrity --repair`, or restore another backup"))
    return out


def _detail(detail: Any) -> str:
    if isinstance(detail, dict):
        return ", ".join(f"{k}={v}" for k, v in detail.items() if k != "repaired")
    return str(detail)


def verify_store(url: str) -> list[CheckResult]:
    """Everything a restored (or about-to-be-restored) store must pass."""
    results: list[CheckResult] = []
    db = open_database(url, pool_size=1)
    try:
        if isinstance(db, pw.SqliteDatabase):
            results.append(sqlite_integrity(Path(db.database)))
            if results[-1].status == "fail":
                return results
        results.append(schema_check(db, name="store.schema"))
    except pw.PeeweeException as exc:
        results.append(CheckResult("store.schema", "fail", f"cannot read the schema: {exc}",
                                   "the store is damaged or not a halosync store"))
        return results
    finally:
        db.close()
        if hasattr(db, "close_all"):
            db.close_all()
    if results[-1].status != "fail":
        results.extend(inspect_checks(url))
    return results
