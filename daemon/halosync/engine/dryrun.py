"""The dry run of a pull (beside the pipeline, not a step of it): the same staging and planning as a pull and the
planner, inside one transaction that is rolled back, collected in a ``PlanReport``.

A dry run holds one database thread for its whole length (a transaction cannot span threads): pages reach it
through a channel, so the pull itself still streams and memory stays bounded. It is handed a ``DryRunContext``
(built by ``Engine._dry_run_context``), not the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import trio

from halosync.contracts import Source, SourcePage
from halosync.engine.ledger import Ledger
from halosync.engine.planner import PlanReport, PlanSettings, process_pending
from halosync.engine.pull import Emit, closing
from halosync.engine.staging import StageResult, stage_page
from halosync.exception_groups import unwrapped
from halosync.store.gateway import Store


@dataclass(frozen=True)
class DryRunContext:
    store: Store  # its database thread, for the one transaction
    plan: PlanSettings  # the sinks and matchers as of this run
    plan_batch: int  # staged leads planned per round


async def dry_run(ctx: DryRunContext, source: Source, cursor: str | None, *, full: bool, emit: Emit) -> dict[str, Any]:
    """The plan a pull would make (creates, updates with field diffs, merges), with nothing written."""
    report, totals = PlanReport(), StageResult()
    send, receive = trio.open_memory_channel[SourcePage](1)
    settings = ctx.plan

    def planner() -> None:
        def body() -> None:
            with ctx.store.db.atomic() as txn:
                while True:
                    try:
                        page = trio.from_thread.run(receive.receive)
                    except trio.EndOfChannel:
                        break
                    ledger = Ledger()
                    totals.add(stage_page(source.name, page.leads, page.rejected, page.cursor, ledger,
                                          via="dry-run"))
                    while process_pending(settings, ctx.plan_batch, ledger, report):
                        pass
                    # What planning itself counts (merges into existing records, skips, reviews, dead letters).
                    report.expected.update(ledger.totals)
                txn.rollback()

        ctx.store.call(body)

    pages = read = 0
    with unwrapped():  # a source's error (raised in the body) or the planner's, as itself
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lambda: trio.to_thread.run_sync(planner, limiter=ctx.store.limiter))
            async with send, closing(source.pull(cursor, full=full)) as pages_:
                async for page in pages_:
                    await send.send(page)
                    pages, read = pages + 1, read + len(page.leads) + len(page.rejected)
                    event = {"type": "progress", "source": source.name, "pages": pages, "read": read, "dry_run": True}
                    if page.total is not None:  # the source's estimate of the pull's size (progress only)
                        event["total"] = max(page.total, read)
                    emit(event)
    plan = report.as_dict()
    plan.update(source=source.name, pages=pages, staged=totals.staged, unchanged=totals.unchanged,
                rejected=totals.rejected)
    return plan
