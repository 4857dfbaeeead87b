"""``halosyncctl pause``: stop all outbound writes and source polling (webhooks are still accepted and stored)."""

from __future__ import annotations

from typing import Any

from halosync.cli.ctl_commands import Session, add_command, answer


def register(sub: Any) -> None:
    p = add_command(sub, "pause", "stop all outbound writes and source polling (webhooks are still stored)")
    p.set_defaults(handler=handle)


def handle(session: Session) -> int:
    return answer(session, "pause", {},
                  lambda s, r: s.console.print(f"paused: no writes and no polling until `halosyncctl resume` "
                                               f"(state {r.get('state')})"))
