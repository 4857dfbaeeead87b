"""``halosyncctl plugins``: the running daemon's plugins (as ``halosync plugins``), with their state."""

from __future__ import annotations

from typing import Any

from halosync.cli.ctl_commands import Session, add_command, answer, table


def register(sub: Any) -> None:
    p = add_command(sub, "plugins", "loaded plugins of the running daemon: name, kinds, version, hooks, state")
    p.set_defaults(handler=handle)


def render(session: Session, result: dict[str, Any]) -> None:
    session.console.print(table(None, ["name", "kinds", "version", "state", "hooks", "from"],
                                [[p.get("name"), ", ".join(p.get("kinds", [])), p.get("version"), p.get("state"),
                                  ", ".join(h.removeprefix("halosync_") for h in p.get("hooks", [])),
                                  p.get("origin")] for p in result.get("plugins", [])]))


def handle(session: Session) -> int:
    return answer(session, "plugins", {}, render)
