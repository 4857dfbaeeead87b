"""``halosync migrate [status|up|down [--to N]]``: the state store's schema migrations, reversible.

``up`` applies every pending migration (or up to number N); ``down`` reverts the latest one (or every one above
number N; ``--to 0`` reverts all). On SQLite a backup copy is taken next to the database before any migration
changes the tables of an existing database. ``halosync run`` applies pending migrations itself at start.
"""

from __future__ import annotations

import argparse
from typing import Any

from halosync.cli.common import fail, guarded, load_all, print_json
from halosync.exitcodes import EX_OK, EX_USAGE
from halosync.store.database import redacted_url
from halosync.store.gateway import Store
from halosync.store.migrations_runner import DIRECTORY, Migrations
from halosync.store.presence import missing_store


def register(sub: Any) -> None:
    p = sub.add_parser("migrate", help="database schema migrations (status, up, down)",
                       description="Show, apply or revert the state store's schema migrations. "
                       "SQLite databases are backed up before their tables change.")
    p.add_argument("action", nargs="?", choices=("status", "up", "down"), default="status",
                   help="status (default): applied and pending; up: apply; down: revert")
    p.add_argument("--to", type=int, metavar="N",
                   help="up: stop after migration N; down: revert every migration above N (0: all)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(handler=guarded(handle))


def handle(args: argparse.Namespace) -> int:
    if args.to is not None and args.action == "status":
        return fail("migrate: --to goes with up or down", EX_USAGE)
    config, _ = load_all(args)
    if args.action == "status":  # read-only: never creates the store it reports on
        absent = missing_store(config.database_url, timeout=config.get("database.timeout"))
        if absent is not None:
            return _no_store_yet(args, redacted_url(config.database_url), absent)
    store = Store(config.database_url, timeout=config.get("database.timeout"), pool_size=1)
    try:
        migrations = Migrations(store)
        changed: list[str] = []
        if args.action == "up":
            changed = store.call(migrations.up, args.to)
        elif args.action == "down":
            changed = store.call(migrations.down, args.to)
        rows = store.call(migrations.status)
    finally:
        store.close()
    current = max((m.number for m in rows if m.applied_at), default=0)
    if args.json:
        print_json({
            "database": store.shown_url,
            "exists": True,
            "current": current,
            "latest": max((m.number for m in rows), default=0),
            "changed": changed,
            "migrations": [{"number": m.number, "name": m.name, "applied_at": m.applied_at} for m in rows],
        })
        return EX_OK
    if args.action != "status":
        verb = "applied" if args.action == "up" else "reverted"
        print(f"{verb}: {', '.join(changed)}" if changed else f"nothing to {args.action}")
    print(f"database {store.shown_url}: schema version {current}")
    for m in rows:
        print(f"  {m.number:04d}  {m.name:<40}  {m.applied_at or 'pending'}")
    return EX_OK


def _no_store_yet(args: argparse.Namespace, database: str, absent: str) -> int:
    """``migrate status`` before there is a store: every known migration is pending; nothing is created."""
    known = [(int(path.name[:4]), path.stem) for path in sorted(DIRECTORY.glob("[0-9][0-9][0-9][0-9]_*.py"))]
    if args.json:
        print_json({"database": database, "exists": False, "current": 0, "latest": max((n for n, _ in known),
                                                                                         default=0),
                    "changed": [], "note": absent,
                    "migrations": [{"number": n, "name": name, "applied_at": None} for n, name in known]})
        return EX_OK
    print(f"database {database}: {absent}")
    for number, name in known:
        print(f"  {number:04d}  {name:<40}  pending")
    return EX_OK
