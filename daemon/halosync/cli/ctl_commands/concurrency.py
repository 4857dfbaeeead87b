"""``halosyncctl concurrency N``: change the sink worker count at run time."""

from __future__ import annotations

from typing import Any

from halosync.cli.ctl_commands import Session, add_command, answer


def register(sub: Any) -> None:
    p = add_command(sub, "concurrency", "change the sink worker count at run time")
    p.add_argument("workers", metavar="N", type=int, help="sink workers (1-64)")
    p.set_defaults(handler=handle)


def handle(session: Session) -> int:
    return answer(session, "concurrency", {"workers": session.args.workers},
                  lambda s, r: s.console.print(f"sink workers: {r.get('workers')}"))
