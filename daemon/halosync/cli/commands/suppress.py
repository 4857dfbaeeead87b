"""``halosync suppress add|remove|list``: the suppression list on the store directly (no daemon needed); the same
answers as ``halosyncctl suppress``."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from halosync.cli.commands._privacy_store import opened
from halosync.cli.common import guarded, print_json
from halosync.cli.ctl_commands.suppress import ENTRY_HELP, print_change, print_list
from halosync.engine import suppression
from halosync.errors import HalosyncError
from halosync.exitcodes import EX_USAGE


class BadEntry(HalosyncError):
    exit_code = EX_USAGE


def register(sub: Any) -> None:
    p = sub.add_parser("suppress", help="the suppression list, on the store directly",
                       description="Manage the suppression list without the daemon (see `halosyncctl suppress`).")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help_text in (("add", "add entries"), ("remove", "remove entries")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("entries", nargs="+", metavar="ENTRY", help=ENTRY_HELP)
        if name == "add":
            action.add_argument("--reason", help="why (shown by list)")
        action.add_argument("--json", action="store_true", help="print one JSON document")
    listing = actions.add_parser("list", help="show the list")
    listing.add_argument("--limit", type=int, default=1000, help="entries shown (default 1000)")
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=guarded(handle))


def handle(args: argparse.Namespace) -> int:
    with opened(args) as (_, store):
        if args.action == "list":
            result = store.call(suppression.listing, args.limit)
        else:
            try:
                entries = [suppression.parse_entry(e) for e in args.entries]
            except suppression.SuppressionError as exc:
                raise BadEntry(str(exc)) from exc

            def change() -> dict[str, Any]:
                with store.db.atomic():
                    if args.action == "add":
                        return suppression.add(entries, reason=args.reason)
                    return suppression.remove(entries)

            result = store.call(change)
    if args.json:
        print_json(result)
        return 0
    (print_list if args.action == "list" else print_change)(Console(highlight=False), result)
    return 0
