"""``halosyncctl rate-limits``: per provider and window, as last observed: limit, used, left, reset time."""

from __future__ import annotations

from typing import Any

from halosync.cli.ctl_commands import Session, add_command, answer, table, when


def register(sub: Any) -> None:
    p = add_command(sub, "rate-limits", "per provider and window: limit, used, left, reset time")
    p.set_defaults(handler=handle)


def render(session: Session, result: dict[str, Any]) -> None:
    windows = result.get("windows", [])
    if not windows:
        session.console.print("no rate-limit window observed yet (they appear after the first provider calls)")
        return
    session.console.print(table(None, ["provider", "window", "endpoint", "limit", "used", "left", "resets",
                                       "runs out", "from"],
                                [[w.get("provider"), w.get("window") or w.get("error"), w.get("endpoint"),
                                  w.get("limit"), w.get("used"), w.get("remaining"), when(w.get("reset_at")),
                                  when(w.get("exhausted_at")), w.get("basis") or "provider"] for w in windows]))


def handle(session: Session) -> int:
    return answer(session, "rate-limits", {}, render)
