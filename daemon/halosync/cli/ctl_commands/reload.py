"""``halosyncctl reload``: re-read the configuration (same as SIGHUP); exit 78 when the new one is invalid (the
running configuration is kept)."""

from __future__ import annotations

from typing import Any

from halosync.cli.ctl_commands import Session, add_command, answer


def register(sub: Any) -> None:
    p = add_command(sub, "reload", "re-read configuration (same as SIGHUP)")
    p.set_defaults(handler=handle)


def handle(session: Session) -> int:
    return answer(session, "reload", {},
                  lambda s, r: s.console.print(f"configuration reloaded from {r.get('config') or '<defaults>'}"))
