"""``halosync backup DEST`` and ``halosync restore SRC``: a consistent copy of the state store, and putting one back.

``backup`` works while the daemon runs (SQLite's online backup API; pg_dump's snapshot). ``restore`` refuses while
any daemon holds the state dir's lock, checks the backup before touching anything, keeps the store it replaces
(``*.pre-restore-*``), and verifies the result: SQLite's integrity check, the schema version and the data
integrity checks. Exit 0, or 1 when verification found a problem (the replaced store is then still at hand).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import peewee as pw

from halosync.cli.common import guarded, load_all, print_json
from halosync.config.loader import Config
from halosync.contracts import CheckResult
from halosync.daemon import lock
from halosync.diagnose.store_checks import sqlite_backup_checks, verify_store
from halosync.errors import StoreError
from halosync.exitcodes import EX_OK, EX_PROBLEMS
from halosync.store import backup as copies
from halosync.store.database import open_database, redacted_url


def register(sub: Any) -> None:
    b = sub.add_parser("backup", help="write a consistent copy of the state store (safe while the daemon runs)",
                       description="Write a consistent copy of the state store to DEST (a file, or a directory "
                       "to put a time-stamped file in). SQLite: online backup API; PostgreSQL: pg_dump.")
    b.add_argument("dest", metavar="DEST")
    b.add_argument("--force", action="store_true", help="replace DEST if it exists")
    b.add_argument("--keep", type=int, default=0, metavar="N",
                   help="with a directory DEST: afterwards delete all but the newest N backups in it")
    b.add_argument("--json", action="store_true", help="print one JSON document")
    b.set_defaults(handler=guarded(handle_backup))
    r = sub.add_parser("restore", help="replace the state store with a backup (the daemon must be stopped)",
                       description="Replace the state store with the backup SRC. Refuses while a daemon runs; "
                       "keeps the replaced store beside it; verifies the result.")
    r.add_argument("src", metavar="SRC", type=Path)
    r.add_argument("--json", action="store_true", help="print one JSON document")
    r.set_defaults(handler=guarded(handle_restore))


def handle_backup(args: argparse.Namespace) -> int:
    config, _ = load_all(args)
    if args.keep and not (args.dest.endswith("/") or Path(args.dest).is_dir()):
        raise StoreError("--keep prunes time-stamped backups in a directory: give a directory as DEST")
    copied = take_backup(config, args.dest, force=args.force)
    pruned = copies.prune(copied.path.parent, copied.kind, args.keep) if args.keep else []
    if args.json:
        print_json({"ok": True, "path": str(copied.path), "kind": copied.kind, "bytes": copied.size,
                    "seconds": round(copied.seconds, 3), "deleted": [str(p) for p in pruned]})
    else:
        print(f"backed up {redacted_url(config.database_url)} to {copied.path} "
              f"({copied.size / 1e6:.1f} MB in {copied.seconds:.1f} s)")
        for old in pruned:
            print(f"deleted old backup {old}")
    return EX_OK


def take_backup(config: Config, dest: str, *, force: bool = False) -> copies.Copied:
    url = config.database_url
    kind = copies.store_kind(url)
    target = copies.destination(dest, kind, force=force)
    if kind == "sqlite":
        return copies.sqlite_copy(copies.sqlite_path(url), target, timeout=float(config.get("database.timeout")))
    return copies.pg_dump(url, target)


def handle_restore(args: argparse.Namespace) -> int:
    config, _ = load_all(args)
    kept, results = restore(config, args.src)
    ok = not any(r.status == "fail" for r in results)
    if args.json:
        print_json({"ok": ok, "restored_from": str(args.src), "previous_store": str(kept) if kept else None,
                    "checks": [asdict(r) for r in results]})
    else:
        for r in results:
            print(f"{r.status:<4}  {r.name}  {r.message}" + (f"  -> fix: {r.hint}" if r.hint and r.status != "pass"
                                                              else ""))
        print(f"restored {args.src} into {redacted_url(config.database_url)}"
              + (f"; the previous store is kept as {kept}" if kept else ""), file=sys.stderr)
    return EX_OK if ok else EX_PROBLEMS


def restore(config: Config, src: Path) -> tuple[Path | None, list[CheckResult]]:
    """Check ``src``, replace the store with it under the exclusive lock, verify. Returns the kept copy of the
    previous store (None when there was none) and the verification lines."""
    url = config.database_url
    kind = copies.store_kind(url)
    found = copies.file_kind(src)
    if found != kind:
        raise StoreError(f"{src} is a {found} backup but database.url is {kind}; restore it into a {found} store")
    _check_source(kind, src, url)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with lock.held_exclusively(config.state_dir):
        if kind == "sqlite":
            live = copies.sqlite_path(url)
            kept = _keep_sqlite(live, stamp, float(config.get("database.timeout")))
            copies.sqlite_copy(src, _staged(live), timeout=float(config.get("database.timeout")))
            _swap_in(_staged(live), live)
        else:
            # A fresh database (disaster recovery) has nothing to keep.
            has_store = _pg_prepare(url)
            kept = copies.pg_dump(url, config.state_dir / f"pre-restore-{stamp}.dump") if has_store else None
            copies.pg_restore(url, src)
    return kept.path if kept else None, verify_store(url)


def _check_source(kind: copies.StoreKind, src: Path, url: str) -> None:
    """Refuse a damaged or foreign backup before anything is changed."""
    if kind == "postgresql":
        copies.pg_check_archive(src, url)
        return
    for result in sqlite_backup_checks(src):
        if result.status == "fail":
            raise StoreError(f"{src}: {result.message}; nothing was changed. {result.hint}")


def _pg_prepare(url: str) -> bool:
    """Whether the PostgreSQL store holds a halosync store now; creates the URL's schema when it is missing (the
    archive's objects are restored into it, and pg_restore --schema does not create it)."""
    schema = copies.pg_target(url).schema
    if schema and '"' in schema:
        raise StoreError(f"the search_path schema {schema!r} in database.url cannot contain a double quote")
    db = open_database(url, pool_size=1)
    execute: Any = db.execute_sql  # untyped in peewee
    try:
        if schema:
            execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        # to_regclass follows the URL's search_path, unlike peewee's table_exists (which assumes "public").
        row = execute("SELECT to_regclass(%s) IS NOT NULL", (copies.HISTORY_TABLE,)).fetchone()
        return bool(row and row[0])
    except pw.PeeweeException as exc:
        raise StoreError(f"cannot prepare {redacted_url(url)}: {' '.join(str(exc).split())}") from exc
    finally:
        db.close()
        if hasattr(db, "close_all"):
            db.close_all()


def _keep_sqlite(live: Path, stamp: str, timeout: float) -> copies.Copied | None:
    if not live.exists():
        return None
    return copies.sqlite_copy(live, live.with_name(f"{live.name}.pre-restore-{stamp}"), timeout=timeout)


def _staged(live: Path) -> Path:
    return live.with_name(f".{live.name}.restoring")


def _swap_in(staged: Path, live: Path) -> None:
    """Put the staged copy in place of the live database, with no -wal/-shm of the old one left beside it
    (SQLite would replay an old WAL onto the new file)."""
    try:
        if os.geteuid() == 0:  # root restoring for the daemon's user: the file must stay the daemon's
            owner = live.parent.stat()
            os.chown(staged, owner.st_uid, owner.st_gid)
        for suffix in ("-wal", "-shm"):
            Path(f"{live}{suffix}").unlink(missing_ok=True)
        staged.replace(live)
    except OSError as exc:
        raise StoreError(f"cannot replace {live}: {exc.strerror or exc}; the backup is staged at {staged}") from None
