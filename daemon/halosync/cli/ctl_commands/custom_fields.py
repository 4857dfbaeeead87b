"""``halosyncctl custom-fields``: check the configured HaloPSA custom fields against the instance; exit 1 when a
check fails."""

from __future__ import annotations

from typing import Any

from halosync.cli.ctl_commands import Session, add_command, answer, table


def register(sub: Any) -> None:
    p = add_command(sub, "custom-fields", "check the configured HaloPSA custom fields against the instance")
    p.set_defaults(handler=handle)


def render(session: Session, result: dict[str, Any]) -> None:
    checks = result.get("checks", [])
    if not checks:
        session.console.print("no custom-field checks: no custom fields are configured")
        return
    session.console.print(table(None, ["sink", "check", "status", "message", "fix"],
                                [[c.get("sink"), c.get("name"), c.get("status"), c.get("message"), c.get("hint")]
                                 for c in checks]))


def handle(session: Session) -> int:
    return answer(session, "custom-fields", {}, render, lambda result: 0 if result.get("ok") else 1)
