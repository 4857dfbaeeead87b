"""``halosync export-person QUERY``: everything the store holds about one person, as JSON, read from the store
directly (no daemon needed); the same document as ``halosyncctl export-person``."""

from __future__ import annotations

import argparse
from typing import Any

from halosync.cli.commands._privacy_store import opened
from halosync.cli.common import add_person_query, guarded, print_json
from halosync.privacy import export


def register(sub: Any) -> None:
    p = sub.add_parser("export-person", help="everything the store holds about one person, as JSON",
                       description="Print every row the store holds about a person (a subject access request). "
                       "Exit 1 when nothing is held.")
    add_person_query(p)
    p.add_argument("--json", action="store_true", help="accepted for symmetry: the output is always JSON")
    p.set_defaults(handler=guarded(handle))


def handle(args: argparse.Namespace) -> int:
    with opened(args) as (_, store):
        result = store.call(export.export, args.query)
    print_json(result)
    return 0 if result["found"] else 1
