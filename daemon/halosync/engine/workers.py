"""Sink workers: claim a batch from the outbox, reconcile what may already be written, write, settle.

Each sink has a pool of ``sync.concurrency`` workers (changeable at run time). A worker holds no state between
batches: the outbox rows are the queue, and ``Wakeup`` only tells idle workers to look again, so a restart, a
dead-letter retry or another daemon's claim need nothing special. The sixth step of the pipeline (pull -> staging
-> identity -> planner -> outbox -> workers -> links); workers are handed a ``WorkerContext`` (built by
``Engine._worker_context``), not the engine.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio
from loguru import logger

from halosync import metrics
from halosync.contracts import Sink, WriteOp, WriteResult
from halosync.daemon.failures import describe
from halosync.engine import existing, outage, outbox, synclog
from halosync.engine.ledger import Commit, Ledger
from halosync.engine.settings import EngineSettings
from halosync.errors import ProviderError, RateLimited, RecordRejected, StoreUnreachable, TransientProviderError
from halosync.provider.requests import RequestCount, counting
from halosync.store.gateway import Store

BACKOFF_POLL = 60.0  # a worker waiting out its sink's backoff looks again at least this often (manual retries)
IDLE_POLL = 2.0  # seconds an idle worker sleeps before looking again (rows may become due by their own clock)
WRITE_BOUND = 900.0  # the sink waits on its own quotas inside write(); this only catches a call that never ends


class Wakeup:
    """Tells waiting tasks that there may be work. Take ``event`` before looking, so a wake in between is seen."""

    def __init__(self) -> None:
        self.event = trio.Event()

    def wake(self) -> None:
        self.event.set()
        self.event = trio.Event()

    async def wait(self, event: trio.Event, at_most: float) -> None:
        with trio.move_on_after(at_most):
            await event.wait()


@dataclass(frozen=True)
class WorkerContext:
    """What a sink's workers need. The callables are read on every turn: a reload replaces the settings and the
    sinks, the engine's flags change while workers wait."""

    store: Store  # transactions (the recheck before a write) and which database it is
    commit: Commit  # a claim or a settle in one transaction, then metrics and the plugins' notifications
    wakeup: Wakeup
    worker_id: str  # host:pid:nonce, recorded on claimed rows
    sink: Callable[[str], Sink | None]  # the sink of that name now (None once a reload removed it)
    settings: Callable[[], EngineSettings]
    concurrency: Callable[[], int]
    draining: Callable[[], bool]
    paused: Callable[[], bool]
    mirror_ready: Callable[[], bool]  # every sink's mirror is loaded
    next_due_in: Callable[[], float | None]  # seconds until a row this process put back falls due
    pause_for: Callable[[float], Awaitable[None]]  # wait, or until a reload or the drain says to look again
    retry_in: Callable[[str], float]  # the plugin's backoff
    record_success: Callable[[str], None]
    record_failure: Callable[[str, BaseException, str], None]


class SinkWorkers:
    def __init__(self, ctx: WorkerContext, sink_name: str) -> None:
        self.ctx = ctx
        self.sink_name = sink_name
        self.running = 0  # worker tasks alive
        self.busy = 0  # workers inside a write
        # Turns on which a worker looked for work and left it because the engine was paused: what proves that a
        # paused daemon declined rows that were there (a test waits for it instead of sleeping and hoping).
        self.paused_turns = 0
        self.idle = trio.Event()

    def resize(self, nursery: trio.Nursery, workers: int) -> None:
        for index in range(self.running, workers):
            nursery.start_soon(self._worker, index)
        # shrinking: workers whose index is too high leave after their current batch

    async def _worker(self, index: int) -> None:
        self.running += 1
        try:
            await outage.outlasting(f"{self.sink_name} writer {index}", self._work, index, stop=self.ctx.draining)
        finally:
            self.running -= 1
            if self.running == 0:
                self.idle.set()

    async def _work(self, index: int) -> None:
        ctx = self.ctx
        while index < ctx.concurrency() and not ctx.draining():
            sink = ctx.sink(self.sink_name)
            if sink is None:
                return  # removed by a reload
            event = ctx.wakeup.event
            if ctx.paused() or not ctx.mirror_ready():
                self.paused_turns += ctx.paused()
                await ctx.wakeup.wait(event, IDLE_POLL)
                continue
            backoff = ctx.retry_in(sink.name)
            if backoff > 0:  # the sink failed: no claims (no attempts used up) until its backoff ends
                await ctx.pause_for(min(backoff, BACKOFF_POLL))
                continue
            batch = await self._claim(sink, people_first=index % 2 == 1)
            if batch is None:
                due = ctx.next_due_in()
                await ctx.wakeup.wait(event, IDLE_POLL if due is None else min(IDLE_POLL, due + 0.005))
                continue
            self.busy += 1
            try:
                with trio.CancelScope(shield=ctx.draining()):
                    await self._write(sink, batch)
            finally:
                self.busy -= 1

    async def _claim(self, sink: Sink, *, people_first: bool) -> outbox.Batch | None:
        """A batch of rows to write; creates whose identity has a record by now become updates instead (their
        lineage and links are committed with the claim)."""
        ctx = self.ctx
        ledger = Ledger()

        def unit() -> outbox.Batch | None:
            batch = outbox.claim(sink.name, sink.kinds, max(1, min(sink.batch_size, ctx.settings().batch_size)),
                                 ctx.worker_id, skip_locked=not ctx.store.sqlite, people_first=people_first,
                                 policy=ctx.settings().policy, ledger=ledger)
            ledger.flush()
            return batch

        return await ctx.commit(ledger, unit)

    async def _write(self, sink: Sink, batch: outbox.Batch) -> None:
        ctx = self.ctx
        results: dict[str, tuple[WriteResult, str]] = {}
        postpone_until = 0.0
        started = time.perf_counter()
        requests = RequestCount()
        try:
            with trio.fail_after(WRITE_BOUND), counting() as requests:
                await self._reconcile(sink, batch, results)
                await self._recheck(batch, results)
                todo = [op for op in batch.ops if op.key not in results]
                if todo and not ctx.store.sqlite:  # daemons share the store: a claim lapses if its daemon froze
                    todo = await self._still_ours(batch, todo)
                if todo:
                    written = await sink.write(todo)
                    for op, result in zip(todo, written, strict=True):
                        results[op.key] = (result, "ok")
            ctx.record_success(sink.name)
        except RateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else ctx.settings().retry.base
            ctx.record_failure(sink.name, exc, "writing")
            logger.debug("{}: rate limited; {} writes wait {:.0f} s", sink.name, len(batch.rows), wait)
            postpone_until = time.time() + wait
            self._fill(batch.ops, results, str(exc), retryable=True, how="postponed")
        except StoreUnreachable as exc:  # the store's fault (checking before the write), not the sink's: the rows
            postpone_until = time.time() + 1.0  # wait a moment, and the attempt does not count
            self._fill(batch.ops, results, str(exc), retryable=True, how="postponed")
        except RecordRejected as exc:  # the record's fault, not the sink's: no backoff, the outbox decides
            logger.warning("{}: writing {} {} {}(s) failed: {}", sink.name, len(batch.ops), batch.action,
                           batch.kind, exc)
            self._fill(batch.ops, results, str(exc), retryable=len(batch.ops) > 1)
        except Exception as exc:  # any failure of the sink (or a bug in it): it backs off, the pipeline goes on
            if isinstance(exc, trio.TooSlowError):
                exc = TransientProviderError(sink.name, f"the write took longer than {WRITE_BOUND:g} s")
            reason = describe(exc) if isinstance(exc, ProviderError) else f"{sink.name} failed: {describe(exc)}"
            ctx.record_failure(sink.name, exc, "writing")
            logger.debug("{}: writing {} {} {}(s) failed: {}", sink.name, len(batch.ops), batch.action,
                         batch.kind, reason)
            self._fill(batch.ops, results, reason, retryable=True)
        metrics.observe_sink_batch(sink.name, batch.kind, batch.action, len(batch.ops),
                                   time.perf_counter() - started)
        logger.debug("{}: wrote {} {} {}(s) in {:.3f} s", sink.name, len(batch.ops), batch.action, batch.kind,
                     time.perf_counter() - started)
        ledger = Ledger()

        def unit() -> None:
            outbox.settle(batch, results, ctx.settings().retry, ledger, lock=not ctx.store.sqlite,
                          postpone_until=postpone_until, conflicts=ctx.settings().policy)
            ledger.flush()

        await ctx.commit(ledger, unit)
        synclog.batch_done(sink.name, kind=batch.kind, action=batch.action, size=len(batch.ops),
                           outcomes=Counter(how for _, how in results.values()), ledger=ledger, requests=requests,
                           seconds=time.perf_counter() - started)
        ctx.wakeup.wake()  # a company just written frees the people waiting on it; `--once` checks if done

    async def _still_ours(self, batch: outbox.Batch, todo: list[WriteOp]) -> list[WriteOp]:
        """The writes whose rows are still under this batch's claim: a daemon frozen after its claim (SIGSTOP, a VM
        paused) finds, waking, that the rows went to another daemon when its heartbeat lapsed, and must not write
        them too. (A write already sent when it froze is found by that daemon's check of the sink.)"""
        try:
            ours = await self.ctx.store.run(outbox.still_claimed, batch)
        except StoreUnreachable:
            return todo  # no worse than before the check; the settle, tried again, skips rows taken over
        keys = {row.key for row in batch.rows if row.id in ours}
        return [op for op in todo if op.key in keys]

    async def _reconcile(self, sink: Sink, batch: outbox.Batch, results: dict[str, tuple[WriteResult, str]]) -> None:
        """Rows that may have been written before (crash, timeout): ask the sink before writing them again."""
        ops = batch.reconcile_ops
        if not ops:
            return
        found = await sink.find(ops)
        for op, record in zip(ops, found, strict=True):
            if record is not None:
                results[op.key] = (outbox.found_result(op, record), "found")

    async def _recheck(self, batch: outbox.Batch, results: dict[str, tuple[WriteResult, str]]) -> None:
        """Right before creating: an identity that got a record since the claim (a planner adopting one from a
        mirror refresh while the reconcile looked) is not created again; its row becomes an update at settle."""
        rows = [r for r in batch.rows if r.action == "create" and r.key not in results]
        if not rows:
            return
        records = await self.ctx.store.transaction(existing.records_of, batch.sink, batch.kind,
                                                      [r.entity_id for r in rows])
        for row in rows:
            if row.entity_id in records:
                results[row.key] = (WriteResult(row.key, sink_id=records[row.entity_id]), "exists")

    @staticmethod
    def _fill(ops: list[WriteOp], results: dict[str, tuple[WriteResult, str]], reason: str, *,
              retryable: bool, how: str = "failed") -> None:
        for op in ops:
            results.setdefault(op.key, (WriteResult(op.key, error=reason, retryable=retryable), how))
