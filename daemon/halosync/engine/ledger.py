"""Small writes every stage shares, made inside the caller's transaction: lineage events, dead letters, totals.

Everything here runs in a database thread. Lineage and totals are buffered by the caller (``Ledger``) and flushed
with bulk inserts at the end of the unit of work, so a page of 100 leads costs a handful of statements.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import peewee as pw

from halosync import metrics
from halosync.contracts import LeadEvent
from halosync.engine.sql import insert_rows
from halosync.store.models import DeadLetter, LineageEvent, Total

T = TypeVar("T")

TOTAL_NAMES = ("seen", "created", "updated", "merged", "skipped", "review", "failed",
               "companies_created", "companies_updated", "opportunities_created",
               "suppressed")  # issue 16: leads a suppression entry or the source's own signal kept out of every sink


@dataclass
class Ledger:
    """What one unit of work records besides its main rows; ``flush()`` writes it, ``events`` are for plugins
    (sent by the caller after the commit)."""

    lineage: list[dict[str, Any]] = field(default_factory=list)
    totals: Counter[str] = field(default_factory=Counter)
    events: list[tuple[str, LeadEvent]] = field(default_factory=list)  # ("synced"|"failed", event)
    dead: int = 0
    retry_at: float | None = None  # the earliest time a row this unit put back falls due (a retry, a rate limit)

    def trace(self, source: str, source_id: str, event: str, **detail: Any) -> None:
        self.lineage.append({"source": source, "source_id": source_id, "at": time.time(), "stage": event,
                             "detail": detail})

    def due_again(self, at: float) -> None:
        self.retry_at = at if self.retry_at is None else min(self.retry_at, at)

    def count(self, name: str, n: int = 1) -> None:
        self.totals[name] += n

    def dead_letter(self, stage: str, reason: str, *, source: str | None = None, source_id: str | None = None,
                    sink: str | None = None, outbox_id: int | None = None, payload: Any = None,
                    attempts: int = 0) -> None:
        DeadLetter.create(stage=stage, reason=reason, source=source, source_id=source_id, sink=sink,
                          outbox_id=outbox_id, payload=payload, attempts=attempts)
        self.dead += 1
        if source and source_id:
            self.trace(source, source_id, "dead", stage=stage, reason=reason)
            self.events.append(("failed", LeadEvent(source, source_id, sink or "", "failed", detail=reason)))
        self.count("failed")

    def reset(self) -> None:
        """Forget what a unit gathered whose transaction was rolled back (before it runs again)."""
        self.lineage.clear()
        self.totals.clear()
        self.events.clear()
        self.dead, self.retry_at = 0, None

    def flush(self) -> None:
        insert_rows(LineageEvent, self.lineage)
        add_totals(self.totals)

    def publish_metrics(self) -> None:
        """After the commit: the same counts as Prometheus counters."""
        for name in metrics.LEAD_OUTCOMES:
            if self.totals[name]:
                metrics.record_lead_outcome(name, self.totals[name])


def add_totals(totals: Counter[str]) -> None:
    for name, n in totals.items():
        if not n:
            continue
        updated = Total.update(value=Total.value + n).where(Total.name == name).execute()
        if not updated:
            Total.insert(name=name, value=n).on_conflict(
                conflict_target=[Total.name], update={Total.value: Total.value + n}).execute()


def read_totals() -> dict[str, int]:
    out = dict.fromkeys(TOTAL_NAMES, 0)
    for row in Total.select():
        out[row.name] = int(row.value)
    return out


def excluded(field_: pw.Field) -> pw.Node:
    """The proposed value of ``field_`` in an upsert (``EXCLUDED.col`` on both SQLite and PostgreSQL)."""
    return pw.SQL(f"EXCLUDED.{field_.column_name}")


class Commit(Protocol):
    """``Engine.commit``: run ``unit`` in one transaction, then publish what ``ledger`` gathered (metrics, the retry
    clock, the plugins' notifications). What pull and the workers are handed instead of the engine."""

    async def __call__(self, ledger: Ledger, unit: Callable[[], T]) -> T: ...
