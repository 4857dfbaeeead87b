"""``halosync forget QUERY``: erase a person from the store directly (no daemon needed); the same answer as
``halosyncctl forget``. Sinks are never touched from here: ``halosyncctl forget --in-sinks`` needs the running
daemon, whose sink plugins are started and authenticated."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from halosync.cli.commands._privacy_store import opened
from halosync.cli.common import add_person_query, guarded, print_json
from halosync.cli.ctl_commands.forget import exit_code, print_result
from halosync.privacy import forget


def register(sub: Any) -> None:
    p = sub.add_parser("forget", help="erase a person from the store directly (right to erasure)",
                       description="Erase a person's personal data from the store, keeping only keyed hashes on "
                       "the suppression list (see `halosyncctl forget`). Exit 1 when nothing about them was held.")
    add_person_query(p)
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=guarded(handle))


def handle(args: argparse.Namespace) -> int:
    with opened(args) as (_, store):
        subject = store.call(forget.plan, args.query)

        def unit() -> dict[str, Any]:
            with store.db.atomic():
                return forget.erase(subject, store.db)

        result = store.call(unit)
        result["checkpoint"] = store.call(forget.checkpoint, store.db)
        result["in_sinks"] = []
    if args.json:
        print_json(result)
    else:
        print_result(Console(highlight=False), result)
    return exit_code(result)
