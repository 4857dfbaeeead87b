"""Pulling a source: page by page into staging, each page and its cursor in one transaction; and the dry run,
which runs the same staging and planning inside one transaction that is rolled back.

A dry run holds one database thread for its whole length (a transaction cannot span threads): pages reach it
through a channel, so the pull itself still streams and memory stays bounded.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import trio
from loguru import logger

from halosync.contracts import Source, SourcePage
from halosync.engine.ledger import Ledger
from halosync.engine.planner import PlanReport, process_pending
from halosync.engine.staging import StageResult, stage_page
from halosync.exception_groups import unwrapped
from halosync.store.models import SourceCursor

if TYPE_CHECKING:
    from halosync.engine.engine import Engine

Emit = Callable[[dict[str, Any]], None]
T = TypeVar("T")
PREFETCH = 2  # pages fetched ahead of staging


@dataclass
class SourceState:
    last_sync_at: float | None = None
    last_success_at: float | None = None
    last_error: str | None = None
    failing_since: float | None = None  # when the first of the failed pulls in a row began (alert source_failing)
    running: bool = False
    lock: trio.Lock = field(default_factory=trio.Lock)


@asynccontextmanager
async def closing(iterator: AsyncIterator[T]) -> AsyncGenerator[AsyncIterator[T]]:
    """Close a plugin's async generator when we stop early (cancelled, draining), not at garbage collection."""
    try:
        yield iterator
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with trio.CancelScope(shield=True):
                await aclose()


def read_cursor(source: str) -> tuple[str | None, float | None]:
    row = SourceCursor.get_or_none(SourceCursor.source == source)
    return (row.cursor, row.updated_at) if row is not None else (None, None)


def record_outcome(source: str, ok: bool, error: str | None) -> None:
    now = time.time()
    if SourceCursor.get_or_none(SourceCursor.source == source) is None:
        SourceCursor.create(source=source, cursor=None, updated_at=now)
    update: dict[Any, Any] = {SourceCursor.last_error: error}
    if ok:
        update[SourceCursor.last_success_at] = now
    SourceCursor.update(update).where(SourceCursor.source == source).execute()


async def pull_source(engine: Engine, source: Source, cursor: str | None, *, full: bool, emit: Emit) -> StageResult:
    """Stage every page of one pull; returns what was staged. Stops early when the daemon drains."""
    totals, pages = StageResult(), 0
    # The next page is fetched while this one is staged (a buffer of PREFETCH pages bounds the memory).
    send, receive = trio.open_memory_channel[SourcePage](PREFETCH)

    async def fetch() -> None:
        async with send, closing(source.pull(cursor, full=full)) as fetched:
            async for page in fetched:
                await send.send(page)

    # The source's errors are raised in the fetching task: unwrapped, so that `except ProviderError` sees them.
    with unwrapped():
        async with trio.open_nursery() as nursery:
            nursery.start_soon(fetch)
            async with receive:
                async for page in receive:
                    await _stage_one(engine, source, page, totals)
                    pages += 1
                    emit({"type": "progress", "source": source.name, "pages": pages, "staged": totals.staged,
                          "unchanged": totals.unchanged, "rejected": totals.rejected})
                    if engine.draining:
                        nursery.cancel_scope.cancel()
                        break
    return totals


async def _stage_one(engine: Engine, source: Source, page: SourcePage, totals: StageResult) -> None:
    """One page and its cursor in one transaction; then the planner and the workers are told."""
    ledger = Ledger()

    def unit() -> StageResult:
        result = stage_page(source.name, page.leads, page.rejected, page.cursor, ledger)
        ledger.flush()
        return result

    started = time.perf_counter()
    totals.add(await engine.commit(ledger, unit))
    logger.debug("{}: staged a page of {} in {:.3f} s", source.name, len(page.leads), time.perf_counter() - started)
    engine.wakeup.wake()
    engine.daemon.beat()


async def dry_run(engine: Engine, source: Source, cursor: str | None, *, full: bool, emit: Emit) -> dict[str, Any]:
    """The plan a pull would make (creates, updates with field diffs, merges), with nothing written."""
    report, totals = PlanReport(), StageResult()
    send, receive = trio.open_memory_channel[SourcePage](1)
    settings = engine.plan_settings()

    def planner() -> None:
        def body() -> None:
            with engine.store.db.atomic() as txn:
                while True:
                    try:
                        page = trio.from_thread.run(receive.receive)
                    except trio.EndOfChannel:
                        break
                    ledger = Ledger()
                    totals.add(stage_page(source.name, page.leads, page.rejected, page.cursor, ledger,
                                          via="dry-run"))
                    while process_pending(settings, engine.settings.plan_batch, ledger, report):
                        pass
                txn.rollback()

        engine.store.call(body)

    pages = 0
    with unwrapped():  # a source's error (raised in the body) or the planner's, as itself
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lambda: trio.to_thread.run_sync(planner, limiter=engine.store.limiter))
            async with send, closing(source.pull(cursor, full=full)) as pages_:
                async for page in pages_:
                    await send.send(page)
                    pages += 1
                    emit({"type": "progress", "source": source.name, "pages": pages, "dry_run": True})
    plan = report.as_dict()
    plan.update(source=source.name, pages=pages, staged=totals.staged, unchanged=totals.unchanged,
                rejected=totals.rejected)
    return plan
