"""``halosyncctl forget QUERY [--in-sinks]``: erase a person's personal data from the store (issue 16), keeping only
keyed hashes on the suppression list so that they are never synced again. Exit 1 when the store held nothing
about them (they are suppressed all the same)."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from halosync.cli.common import add_person_query
from halosync.cli.ctl_commands import Session, add_command, answer, table


def register(sub: Any) -> None:
    p = add_command(sub, "forget", "erase a person from halosync's store (right to erasure); never syncs them again",
                    "Remove a person's staged and raw records, identities, lineage, outbox rows, mirror rows, dead "
                    "letters and webhook deliveries; keep only keyed hashes on the suppression list. Nothing is "
                    "deleted in HaloPSA unless --in-sinks. Exit 1 when nothing about them was held.")
    add_person_query(p)
    p.add_argument("--in-sinks", action="store_true",
                   help="also delete (or, when refused, deactivate) their records in the sinks; audited")
    p.set_defaults(handler=handle)


def print_result(out: Console, result: dict[str, Any]) -> None:
    removed = result.get("removed", {})
    out.print(table("removed from the store", ["table", "rows"], [[k, v] for k, v in removed.items()]))
    out.print(f"{result.get('suppressed', 0)} keyed hash(es) on the suppression list: they are never synced again")
    checkpoint = result.get("checkpoint") or {}
    if checkpoint.get("busy"):
        out.print("[yellow]the WAL could not be truncated (a reader held it): run the command again, or "
                  "`halosync backup` after the daemon stops, to be sure no copy is left in it[/yellow]")
    for entry in result.get("in_sinks", []):
        what = entry.get("outcome") or f"NOT erased: {entry.get('error')}"
        out.print(f"{entry['sink']} record {entry['sink_id']}: {what}")
    left = [r for r in result.get("sink_records", []) if not result.get("in_sinks")]
    if left:
        named = ", ".join(f"{r['sink']} {r['sink_id']}" for r in left)
        out.print(f"{len(left)} record(s) remain in the sinks ({named}); `--in-sinks` erases them there, and until "
                  "then the sink mirror copies them again")


def exit_code(result: dict[str, Any]) -> int:
    failed = any("error" in e for e in result.get("in_sinks", []))
    return 1 if not result.get("found") or failed else 0


def handle(session: Session) -> int:
    return answer(session, "forget", {"query": session.args.query, "in_sinks": bool(session.args.in_sinks)},
                  lambda s, r: print_result(s.console, r), exit_code, wait_long=True)
