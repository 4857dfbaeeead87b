"""Retention pruning (issue 16) on a large SQLite store: how long one pass takes over a 200,000-lead store whose
raw records, lineage and dead letters are all past their period, its longest transaction (what the pipeline may
wait behind), and the pipeline's leads/s (pull, staging, matching, planning, writing to an in-memory sink) with the
retention component pruning the same store at the same time, against the same pipeline with nothing pruning.

The store is built directly (bulk inserts, not through the pipeline): per lead a processed staged lead with a
2.6 KB raw record, three lineage events; one dead letter per 100 leads; all 40 to 400 days old.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import trio

from halosync.engine.component import EngineComponent
from halosync.engine.retention import RetentionComponent, RetentionSettings, prune_pass
from halosync.engine.sql import insert_rows
from halosync.store.gateway import Store
from halosync.store.models import DeadLetter, LineageEvent, SourceCursor, StagedLead
from tests.engine.memory import MemoryPlugin, MemorySink, MemorySource, lead
from tests.privacy.rig import make_daemon

TITLE = "retention pruning (SQLite)"
Row = tuple[str, float | int | str, str, str]
DAY = 86_400.0
RAW = {"id": "", "note": "x" * 2200, "typed_custom_fields": {}, "phone_numbers": [
    {"raw_number": "+44 20 7946 0000", "sanitized_number": "+442079460000", "type": "work_hq", "position": 0,
     "status": "no_status", "dnc_status": None, "dnc_other_info": None}], "contact_emails": []}


def build(url: str, leads: int) -> float:
    """A store of ``leads`` old processed leads; returns the seconds it took."""
    started = time.perf_counter()
    store = Store(url)
    try:
        store.create_schema()
        now = time.time()

        def chunk(start: int, end: int) -> None:
            with store.db.atomic():
                staged: list[dict[str, Any]] = []
                events: list[dict[str, Any]] = []
                dead: list[dict[str, Any]] = []
                for n in range(start, end):
                    at = now - (400 - 360 * n / leads) * DAY  # oldest first, as ids grow
                    person = {"email": f"o{n}@old.example", "first_name": f"Old{n}"}
                    payload: dict[str, Any] = {"source": "old", "source_id": f"o{n}", "person": person,
                                               "company": None, "labels": [], "raw": {**RAW, "id": f"o{n}"}}
                    staged.append({"source": "old", "source_id": f"o{n}", "payload": payload,
                                   "content_hash": f"h{n}", "state": "processed", "staged_at": at,
                                   "processed_at": at, "revision": 1})
                    events += [{"source": "old", "source_id": f"o{n}", "at": at + i, "stage": stage,
                                "detail": {"revision": 1}} for i, stage in enumerate(("staged", "matched", "linked"))]
                    if n % 100 == 0:
                        dead.append({"stage": "intake", "reason": "bench", "created_at": at, "attempts": 0,
                                     "payload": {"id": f"o{n}"}})
                insert_rows(StagedLead, staged)
                insert_rows(LineageEvent, events)
                insert_rows(DeadLetter, dead)

        for start in range(0, leads, 2000):
            store.call(chunk, start, min(leads, start + 2000))
    finally:
        store.close()
    return time.perf_counter() - started


class TimedStore:
    """The store, with the longest single transaction recorded (what a pipeline unit could wait behind)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.longest = 0.0
        self.transactions = 0

    async def transaction(self, fn: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return await self.store.transaction(fn, *args)
        finally:
            self.longest = max(self.longest, time.perf_counter() - started)
            self.transactions += 1


async def standalone(url: str) -> dict[str, Any]:
    store = Store(url)
    timed = TimedStore(store)
    try:
        started = time.perf_counter()
        pruned = await prune_pass(timed, RetentionSettings())
        return {"seconds": time.perf_counter() - started, "pruned": pruned, "longest": timed.longest,
                "transactions": timed.transactions}
    finally:
        store.close()


async def pipeline(directory: Path, url: str, leads: int, offset: int, pruning: bool) -> dict[str, Any]:
    """One `run --once` of ``leads`` new leads through the engine into an in-memory sink; leads/s."""
    reset = Store(url)  # the memory source's cursor is an offset into its list: each run starts at 0
    try:
        reset.call(lambda: SourceCursor.delete().execute())
    finally:
        reset.close()
    plugin = MemoryPlugin(MemorySource([lead(offset + n, domain=f"d{(offset + n) // 20}.example")
                                        for n in range(leads)], page_size=100), MemorySink(batch_size=100))
    daemon = make_daemon(directory, url, plugin, "[retention]\ninterval = 3600")
    components: list[Any] = [EngineComponent()]
    if pruning:
        RetentionComponent.FIRST_PASS_AFTER = 0.0
        components.append(RetentionComponent())
    daemon._components = components
    started = time.perf_counter()
    with trio.fail_after(3600):
        code = await daemon.serve()
    elapsed = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"the pipeline run exited {code}")
    return {"leads_per_s": leads / elapsed, "seconds": elapsed}


def raw_left(url: str) -> int:
    """Old leads that still carry their raw record."""
    store = Store(url)
    try:
        return store.call(lambda: StagedLead.select().where((StagedLead.source == "old") &
                                                            StagedLead.payload.contains('"note":"xx')).count())
    finally:
        store.close()


def run(quick: bool) -> list[Row]:
    size, fresh = (20_000, 5_000) if quick else (200_000, 20_000)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        url_a, url_b = f"sqlite:///{a}/halosync.db", f"sqlite:///{b}/halosync.db"
        built = build(url_a, size)
        rows.append((f"building the {size:,}-lead store (bulk inserts)", built, "s", "-"))
        alone = trio.run(standalone, url_a)
        rows.append((f"one pruning pass over {size:,} leads (raw records, {3 * size:,} lineage events, "
                     f"{size // 100:,} dead letters)", alone["seconds"], "s", "-"))
        rows.append(("  rows pruned", sum(alone["pruned"].values()), "rows", "-"))
        rows.append(("  rows pruned per second", sum(alone["pruned"].values()) / alone["seconds"], "rows/s", "-"))
        rows.append((f"  longest pruning transaction (batch 500, {alone['transactions']:,} of them)",
                     alone["longest"] * 1000, "ms", "< 250"))
        build(url_b, size)
        without = trio.run(pipeline, Path(b), url_b, fresh, 10_000_000, False)
        rows.append((f"pipeline, {fresh:,} new leads, nothing pruning", without["leads_per_s"], "leads/s", "-"))
        during = trio.run(pipeline, Path(b), url_b, fresh, 20_000_000, True)
        rows.append((f"pipeline, {fresh:,} new leads, while the {size:,}-lead store is pruned",
                     during["leads_per_s"], "leads/s", ">= 80 % of the figure above"))
        rows.append(("  ratio, while pruning / without", during["leads_per_s"] / without["leads_per_s"], "x", "-"))
        rows.append(("  raw records the concurrent pass pruned meanwhile", size - raw_left(url_b),
                     "of " + f"{size:,}", "-"))
    return rows
