"""``halosyncctl queue``: outbox depth, in flight, oldest age, processing rate, dead letters."""

from __future__ import annotations

from typing import Any

from halosync.cli.ctl_commands import Session, add_command, age, answer, failing_line, pairs, table


def register(sub: Any) -> None:
    p = add_command(sub, "queue", "outbox depth, in-flight, oldest age, processing rate, dead letters")
    p.set_defaults(handler=handle)


def render(session: Session, queue: dict[str, Any]) -> None:
    session.console.print(pairs(None, {
        "pending": queue.get("pending"), "in flight": queue.get("in_flight"), "dead letters": queue.get("dead"),
        "oldest": age(queue.get("oldest_age_seconds")), "per minute": queue.get("rate_per_minute"),
        "staged, not matched yet": queue.get("staged_pending"), "webhooks waiting": queue.get("webhooks_pending"),
        **failing_line(queue.get("failing"))}))
    by_sink = queue.get("by_sink") or {}
    if by_sink:
        session.console.print(table("by sink", ["sink", "pending", "in flight"],
                                    [[n, f.get("pending"), f.get("in_flight")] for n, f in sorted(by_sink.items())]))


def handle(session: Session) -> int:
    return answer(session, "queue", {}, render)
