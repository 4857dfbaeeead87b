"""``halosyncctl integrity [--repair]``: data integrity checks; exit 1 when a problem is left."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from halosync.cli.ctl_commands import Session, add_command, answer, shown, table


def register(sub: Any) -> None:
    p = add_command(sub, "integrity", "data integrity checks (exit 1 when a problem is left)",
                    "Check the daemon's data: links point to existing sink records, no duplicate links, no merge "
                    "without a decision, no outbox row stuck in flight, cursors not ahead of committed work, schema "
                    "version. --repair fixes what is safe and reports the rest.")
    p.add_argument("--repair", action="store_true", help="fix what can be fixed safely")
    p.set_defaults(handler=handle)


def print_report(console: Console, report: dict[str, Any]) -> None:
    """The report as a table, then each problem (shared with the offline `halosync integrity`)."""
    checks = report.get("checks", [])
    console.print(table(None, ["check", "result", "problems", "repaired"],
                        [[c.get("name"), "ok" if c.get("ok") else "FAIL", c.get("problems"), c.get("repaired", 0)]
                         for c in checks]))
    for check in checks:
        for detail in check.get("details", []):
            if check.get("problems") or "note" in detail:
                text = detail.get("note") or detail.get("problem") or ""
                rest = {k: v for k, v in detail.items() if k not in ("note", "problem")}
                console.print(f"  {check.get('name')}: {text} {shown(rest) if rest else ''}".rstrip())
    console.print("integrity: ok" if report.get("ok") else "integrity: problems found")


def handle(session: Session) -> int:
    return answer(session, "integrity", {"repair": bool(session.args.repair)},
                  lambda s, report: print_report(s.console, report), lambda report: 0 if report.get("ok") else 1,
                  wait_long=True)  # every link is checked with the sink: minutes on a large store
