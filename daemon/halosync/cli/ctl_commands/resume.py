"""``halosyncctl resume``: restart outbound writes and source polling after ``pause``."""

from __future__ import annotations

from typing import Any

from halosync.cli.ctl_commands import Session, add_command, answer


def register(sub: Any) -> None:
    p = add_command(sub, "resume", "restart outbound writes and source polling")
    p.set_defaults(handler=handle)


def handle(session: Session) -> int:
    return answer(session, "resume", {}, lambda s, r: s.console.print(f"resumed (state {r.get('state')})"))
