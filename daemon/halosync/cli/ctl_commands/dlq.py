"""``halosyncctl dlq list|retry|drop``: dead letters.

Exit codes: ``list`` 1 when there are dead letters (failed leads), ``retry`` 1 when some could not be retried,
``drop`` 1 when some ids were not found.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from halosync.cli.ctl_commands import Session, add_command, answer, table, when
from halosync.exitcodes import EX_USAGE


def register(sub: Any) -> None:
    p = add_command(sub, "dlq", "dead letters: list, retry, drop")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = add_command(actions, "list", "list dead letters, newest first (exit 1 when there are any)")
    listing.add_argument("--limit", type=int, default=1000, help="at most this many (default 1000)")
    listing.add_argument("--stage", choices=("intake", "match", "write", "webhook"), help="only this stage")
    listing.set_defaults(handler=handle_list)
    retry = add_command(actions, "retry", "send dead letters back through the pipeline")
    retry.add_argument("ids", metavar="ID", type=int, nargs="*", default=[], help="dead-letter ids")
    retry.add_argument("--all", action="store_true", help="every dead letter")
    retry.set_defaults(handler=handle_retry)
    drop = add_command(actions, "drop", "forget dead letters for good")
    drop.add_argument("ids", metavar="ID", type=int, nargs="+", help="dead-letter ids")
    drop.set_defaults(handler=handle_drop)


def render_list(session: Session, listed: dict[str, Any]) -> None:
    items = listed.get("items", [])
    if not items:
        session.console.print("no dead letters")
        return
    session.console.print(table(f"{listed.get('total', len(items))} dead letter(s)",
                                ["id", "stage", "source", "source id", "sink", "attempts", "when", "reason"],
                                [[d.get("id"), d.get("stage"), d.get("source"), d.get("source_id"), d.get("sink"),
                                  d.get("attempts"), when(d.get("created_at")), d.get("reason")] for d in items]))


def handle_list(session: Session) -> int:
    args = session.args
    return answer(session, "dlq.list", {"limit": args.limit, "stage": args.stage}, render_list,
                  lambda listed: 1 if listed.get("total") else 0)


def handle_retry(session: Session) -> int:
    args: argparse.Namespace = session.args
    if args.all == bool(args.ids):
        print("halosyncctl: dlq retry: give dead-letter ids or --all (not both)", file=sys.stderr)
        return EX_USAGE
    params: dict[str, Any] = {"all": True} if args.all else {"ids": args.ids}

    def render(s: Session, outcome: dict[str, Any]) -> None:
        s.console.print(f"retried: {len(outcome.get('retried', []))}")
        for failure in outcome.get("failed", []):
            s.console.print(f"  not retried: {failure.get('id')}: {failure.get('reason')}")

    return answer(session, "dlq.retry", params, render, lambda outcome: 1 if outcome.get("failed") else 0)


def handle_drop(session: Session) -> int:
    def render(s: Session, outcome: dict[str, Any]) -> None:
        s.console.print(f"dropped: {len(outcome.get('dropped', []))}")
        if outcome.get("missing"):
            s.console.print(f"  not found: {', '.join(str(i) for i in outcome['missing'])}")

    return answer(session, "dlq.drop", {"ids": session.args.ids}, render,
                  lambda outcome: 1 if outcome.get("missing") else 0)
