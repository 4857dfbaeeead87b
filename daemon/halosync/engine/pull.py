"""Pulling a source, the pipeline's first step (pull -> staging -> identity -> planner -> outbox -> workers ->
links): page by page into staging, each page and its cursor in one transaction (table source_cursor). The dry run
of a pull is ``dryrun``.

A pull is handed a ``PullContext`` (built by ``Engine._pull_context``), not the engine: what it needs to commit a
page and tell the rest of the pipeline.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import trio
from loguru import logger

from halosync.contracts import Source, SourcePage
from halosync.daemon.failures import describe
from halosync.engine import synclog
from halosync.engine.ledger import Commit, Ledger
from halosync.engine.staging import StageResult, stage_page
from halosync.exception_groups import unwrapped
from halosync.ha.leases import LeaseLost
from halosync.provider.requests import counting
from halosync.store.models import SourceCursor

Emit = Callable[[dict[str, Any]], None]
T = TypeVar("T")
PREFETCH = 2  # pages fetched ahead of staging
PROGRESS_EVERY = 60.0  # seconds between the sync log's progress lines of one long pull


@dataclass(frozen=True)
class PullContext:
    commit: Commit  # a page and its cursor in one transaction, then the plugins are told
    wake: Callable[[], None]  # the planner and the workers: there is work
    beat: Callable[[], None]  # the watchdog: the pull is alive
    draining: Callable[[], bool]  # the daemon is stopping: end the pull after this page
    # Issue 18 (halosync.ha): whether this daemon still polls the source (end the pull after this page when not),
    # and the check run inside each page's transaction that refuses the page once another daemon took over.
    holds: Callable[[], bool] = lambda: True
    fence: Callable[[], None] | None = None


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


async def pull_source(ctx: PullContext, source: Source, cursor: str | None, *, full: bool, emit: Emit) -> StageResult:
    """Stage every page of one pull; returns what was staged. Stops early when the daemon drains."""
    totals, pages, seen, cursor_to, early, expected = StageResult(), 0, 0, cursor, False, None
    started = said = time.perf_counter()
    # The next page is fetched while this one is staged (a buffer of PREFETCH pages bounds the memory).
    send, receive = trio.open_memory_channel[SourcePage](PREFETCH)

    async def fetch() -> None:
        async with send, closing(source.pull(cursor, full=full)) as fetched:
            async for page in fetched:
                await send.send(page)

    # The source's errors are raised in the fetching task: unwrapped, so that `except ProviderError` sees them.
    with counting() as requests:
        try:
            with unwrapped():
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(fetch)
                    async with receive:
                        async for page in receive:
                            await _stage_one(ctx, source, page, totals)
                            pages, seen, cursor_to = pages + 1, seen + len(page.leads) + len(page.rejected), page.cursor
                            expected = page.total if page.total is not None else expected  # the source's estimate
                            if time.perf_counter() - said >= PROGRESS_EVERY:  # a long pull says it is alive
                                said = time.perf_counter()
                                synclog.pull_progress(source.name, pages=pages, seen=seen, totals=totals,
                                                      requests=requests, seconds=said - started)
                            event = {"type": "progress", "source": source.name, "pages": pages,
                                     "staged": totals.staged, "unchanged": totals.unchanged,
                                     "rejected": totals.rejected}
                            if expected is not None:  # done so far: staged + unchanged + rejected, of total
                                event["total"] = max(expected, totals.staged + totals.unchanged + totals.rejected)
                            emit(event)
                            if ctx.draining() or not ctx.holds():
                                early = True
                                nursery.cancel_scope.cancel()
                                break
        except LeaseLost as exc:  # the page was rolled back; the daemon that took over pulls it from the cursor
            early = True
            logger.info("{}: pull stopped after {} page(s): {}", source.name, pages, exc)
        except Exception as exc:
            synclog.pull_failed(source.name, cursor_from=cursor, pages=pages, totals=totals, requests=requests,
                                seconds=time.perf_counter() - started, reason=describe(exc))
            raise
    synclog.pull_done(source.name, cursor_from=cursor, cursor_to=cursor_to, full=full, pages=pages, seen=seen,
                      totals=totals, requests=requests, seconds=time.perf_counter() - started, stopped_early=early)
    return totals


async def _stage_one(ctx: PullContext, source: Source, page: SourcePage, totals: StageResult) -> None:
    """One page and its cursor in one transaction; then the planner and the workers are told."""
    ledger = Ledger()

    def unit() -> StageResult:
        result = stage_page(source.name, page.leads, page.rejected, page.cursor, ledger)
        ledger.flush()
        if ctx.fence is not None:
            # Last, just before the commit: the lease row is locked FOR SHARE only from here to the commit. A puller
            # frozen in between would hold up the daemon taking over, but PostgreSQL ends a transaction idle for a
            # lease (Store(idle_in_transaction=...)); waking, it finds its page rolled back and the epoch moved.
            ctx.fence()
        return result

    started = time.perf_counter()
    totals.add(await ctx.commit(ledger, unit))
    logger.debug("{}: staged a page of {} in {:.3f} s", source.name, len(page.leads), time.perf_counter() - started)
    ctx.wake()
    ctx.beat()
