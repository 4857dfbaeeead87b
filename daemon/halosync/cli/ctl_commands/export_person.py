"""``halosyncctl export-person QUERY``: everything halosync holds about one person, as JSON (a subject access
request). Always JSON; exit 1 when nothing is held."""

from __future__ import annotations

from typing import Any

from halosync.cli.common import add_person_query
from halosync.cli.ctl_commands import Session, add_command


def register(sub: Any) -> None:
    p = add_command(sub, "export-person", "everything halosync holds about one person, as JSON (subject access)",
                    "Print one JSON document with every row the store holds about a person: staged and raw "
                    "records, identity, lineage, links, outbox rows, dead letters, sink mirror rows, webhook "
                    "deliveries and suppression entries. Exit 1 when nothing is held.")
    add_person_query(p)
    p.set_defaults(handler=handle)


def handle(session: Session) -> int:
    result = session.call("export-person", {"query": session.args.query})
    session.print_json(result)
    return 0 if result.get("found") else 1
