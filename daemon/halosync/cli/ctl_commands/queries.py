"""``halosyncctl queries``: the store's statements by total time since the daemon started: normalised text, how
many times, total, mean and longest time, and how many were over ``database.slow_query_ms``."""

from __future__ import annotations

from typing import Any

from halosync.cli.ctl_commands import Session, add_command, answer, table, when


def register(sub: Any) -> None:
    p = add_command(sub, "queries", "the store's statements by total time since start (slow-query analysis)",
                    "The store's SQL statements since the daemon started (or the last --reset), grouped by their "
                    "normalised text: count, total, mean and longest time, and how many took longer than "
                    "database.slow_query_ms (those are also logged, with their EXPLAIN plan when "
                    "database.explain_slow_queries is on).")
    p.add_argument("--top", type=int, default=20, metavar="N", help="how many statements (default 20)")
    p.add_argument("--order", choices=("total", "mean", "max", "count"), default="total",
                   help="sort by total time (default), mean or longest time, or count")
    p.add_argument("--reset", action="store_true", help="start counting afresh after this answer")
    p.set_defaults(handler=handle)


def render(session: Session, result: dict[str, Any]) -> None:
    session.console.print(
        f"{result.get('database')}: {result.get('executions', 0):,} statement(s) of {result.get('statements', 0)} "
        f"kind(s) in {result.get('total_ms', 0) / 1000:,.2f} s since {when(result.get('since'))}; "
        f"{result.get('slow', 0)} over {result.get('slow_query_ms', 0):g} ms")
    rows = result.get("top") or []
    if not rows:
        session.console.print("no statement yet")
        return
    session.console.print(table(f"top {len(rows)} by {result.get('order')}",
                                ["total ms", "count", "mean ms", "max ms", "slow", "statement"],
                                [[r["total_ms"], r["count"], r["mean_ms"], r["max_ms"], r["slow"], r["statement"]]
                                 for r in rows]))


def handle(session: Session) -> int:
    args = session.args  # the daemon judges --top (1 to 1000) and says so
    return answer(session, "queries", {"top": args.top, "order": args.order, "reset": args.reset}, render)
