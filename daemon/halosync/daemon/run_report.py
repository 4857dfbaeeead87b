"""What one `run --once` did, for the operator who reads it after an exit 1 without starting the daemon:
the plugins that failed and why, the run's figures (seen, created, updated, merged, dead letters), and each dead
letter of this run with its reason.

It is gathered by the engine just before the daemon stops (the store is closed once ``serve`` returns) and printed
by ``halosync run`` on stderr, beside the log, after the last log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from halosync.inspect.deadletters import describe
from halosync.inspect.queries import fetch, id_of
from halosync.store.models import DeadLetter

FIGURES = ("seen", "created", "updated", "merged", "companies_created", "companies_updated")
MAX_LISTED = 200  # dead letters printed one a line; the rest are counted (`halosyncctl dlq list` has them all)


@dataclass
class RunReport:
    failures: dict[str, str] = field(default_factory=dict)  # plugin -> why it failed
    figures: dict[str, int] = field(default_factory=dict)  # this run's, not the store's totals
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    dead_total: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"failures": self.failures, "figures": {**self.figures, "dead_letters": self.dead_total},
                "dead_letters": self.dead_letters}

    def lines(self) -> list[str]:
        out = [f"run --once failed: {plugin}: {why}" for plugin, why in self.failures.items()]
        if not self.failures:
            out.append(f"run --once failed: {self.dead_total} dead letter(s)")
        shown = ", ".join(f"{name.replace('_', ' ')} {self.figures.get(name, 0)}" for name in FIGURES)
        out.append(f"this run: {shown}, dead letters {self.dead_total}")
        for letter in self.dead_letters:
            where = f"{letter['source'] or ''}:{letter['source_id'] or ''}".strip(":") or "-"
            sink = f" -> {letter['sink']}" if letter.get("sink") else ""
            out.append(f"  dead letter {letter['id']} [{letter['stage']}] {where}{sink}: {letter['reason']}")
        if self.dead_total > len(self.dead_letters):
            out.append(f"  ... and {self.dead_total - len(self.dead_letters)} more: `halosyncctl dlq list`")
        return out


def gather(started_at: float, before: dict[str, int], after: dict[str, int], failures: dict[str, str]) -> RunReport:
    """In a database thread: the report of a run that began at ``started_at`` with totals ``before``."""
    query = DeadLetter.select().where(DeadLetter.created_at >= started_at)
    rows = fetch(query.order_by(id_of(DeadLetter)).limit(MAX_LISTED))
    return RunReport(dict(failures), {name: after.get(name, 0) - before.get(name, 0) for name in FIGURES},
                     [describe(row) for row in rows], query.count())
