"""``halosyncctl health``: the same document as ``GET /health``; exit 1 when unhealthy."""

from __future__ import annotations

from typing import Any

from halosync.cli.ctl_commands import Session, add_command, answer, table, when


def register(sub: Any) -> None:
    p = add_command(sub, "health", "the same document as GET /health (exit 1 when unhealthy)")
    p.set_defaults(handler=handle)


def render(session: Session, doc: dict[str, Any]) -> None:
    session.console.print(f"[bold]{doc.get('status')}[/bold]  halosync {doc.get('version')}  ({doc.get('state')})")
    checks = doc.get("checks", {})
    session.console.print(table(None, ["service", "state", "last success", "last error"],
                                [[name, state, when(checks.get(name, {}).get("last_success_at")),
                                  checks.get(name, {}).get("last_error")]
                                 for name, state in sorted(doc.get("services", {}).items())]))


def handle(session: Session) -> int:
    return answer(session, "health", {}, render, lambda doc: 1 if doc.get("status") == "unhealthy" else 0)
