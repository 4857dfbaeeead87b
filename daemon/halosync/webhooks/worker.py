"""The inbox worker: turns stored deliveries into work for the engine, in the background.

    pending rows ──parse (the plugin's WebhookParser)──► leads     ──engine.stage(source, leads, rejected)
                                                      ├► records   ──engine.apply_mirror_records(sink, records)
                                                      └► suppress  ──┐
    then, in one transaction: rows marked processed (and their suppressions added to the list, the writes queued
    for those people cancelled), or failed + a dead letter with the reason

Deliveries are grouped per source (per sink) so a burst of N webhooks costs a few staging transactions, not N;
when a group fails, its rows are retried one by one so that one bad delivery does not take the others down.
Staging is not an outbound write, so it runs while the engine is paused. When the store is unavailable, rows stay
pending and the worker tries again later; nothing is dead-lettered for an outage. Delivery is at least once
(a crash between staging and the mark stages again; staging is idempotent per source record).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import trio
from loguru import logger

from halosync import metrics
from halosync.contracts import WebhookContent, WebhookRequest
from halosync.daemon.api import Lifecycle, StateView
from halosync.engine import suppression, synclog
from halosync.errors import HalosyncError, LeadError, StoreError
from halosync.webhooks import inbox
from halosync.webhooks.registry import Verifiers

if TYPE_CHECKING:
    from halosync.daemon.api import EngineAPI


class WorkerPorts(StateView, Lifecycle, Protocol):
    """The engine to hand deliveries to, the store they wait in, and ``stopping``."""


@dataclass
class _Parsed:
    row: inbox.StoredDelivery
    content: WebhookContent
    suppress: list[tuple[suppression.Entry, str]]


class InboxWorker:
    def __init__(self, daemon: WorkerPorts, verifiers: Verifiers, *, batch: int = 200, poll_interval: float = 5.0,
                 gather: float = 0.05, on_counts: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.daemon = daemon
        self.on_counts = on_counts  # told the inbox figures after each pass (the health document shows them)
        self.verifiers = verifiers
        self.batch = batch
        self.poll_interval = poll_interval
        self.gather = gather
        self.counts: dict[str, Any] = {"pending": 0, "failed": 0, "oldest_pending_age_seconds": 0}
        self._wake = trio.Event()

    def wake(self) -> None:
        if self.daemon.engine.installed:  # without an engine there is nothing to hand deliveries to yet
            self._wake.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        store = self.daemon.store
        counted_at = -float("inf")
        while not self.daemon.stopping.is_set():
            self._wake = trio.Event()
            engine = self.daemon.engine
            try:
                rows = await store.run(inbox.pending, self.batch) if engine.installed else []
                if rows:
                    await self.process(engine, rows)
                    continue  # there may be more
                # The figures cost a count over the inbox: at most once per poll, never once per delivery.
                if trio.current_time() - counted_at >= self.poll_interval:
                    counted_at = trio.current_time()
                    await self._count()
            except StoreError as exc:
                logger.warning("webhook inbox: store unavailable, retrying in {:g} s: {}", self.poll_interval, exc)
            # The poll also picks up deliveries another daemon stored in a shared PostgreSQL database.
            with trio.move_on_after(self.poll_interval):
                await self._wake.wait()
                # A burst wakes us once per delivery: gather for a moment so it is staged in a few groups.
                await trio.sleep(self.gather)

    async def _count(self) -> None:
        self.counts = await self.daemon.store.run(inbox.counts)
        metrics.WEBHOOK_INBOX_PENDING.set(self.counts["pending"])
        if self.on_counts is not None:
            self.on_counts(self.counts)

    async def process(self, engine: EngineAPI, rows: list[inbox.StoredDelivery]) -> None:
        failed: dict[int, str] = {}
        parsed: list[_Parsed] = []
        for row in rows:
            try:
                content = self._parse(row)
                parsed.append(_Parsed(row, content, _suppressions(row, content)))
            except LeadError as exc:
                failed[row.id] = str(exc)
        by_source: dict[str, list[_Parsed]] = defaultdict(list)
        by_sink: dict[str, list[_Parsed]] = defaultdict(list)
        for p in parsed:
            if p.content.source is not None and (p.content.leads or p.content.rejected):
                by_source[p.content.source].append(p)
            if p.content.sink is not None and p.content.records:
                by_sink[p.content.sink].append(p)
        for source, group in by_source.items():
            await _in_groups(group, failed, _stage_into(engine, source))
        for sink, group in by_sink.items():
            await _in_groups(group, failed, _mirror_into(engine, sink))
        done = [row.id for row in rows if row.id not in failed]
        suppress = [(p.row.plugin, p.suppress) for p in parsed if p.suppress and p.row.id not in failed]
        suppressed = await self.daemon.store.transaction(_finish, done, failed, suppress)
        for plugin, added, cancelled in suppressed:
            logger.info("webhook: {} put {} people on the suppression list; {} queued writes cancelled", plugin,
                        added, cancelled)
        for row in rows:
            metrics.record_webhook(row.plugin, "failed" if row.id in failed else "processed")
        for inbox_id, reason in failed.items():
            logger.warning("webhook delivery {} failed and is a dead letter: {}", inbox_id, reason)
        for plugin in sorted({row.plugin for row in rows}):
            mine = [p for p in parsed if p.row.plugin == plugin and p.row.id not in failed]
            synclog.webhooks_done(
                plugin, deliveries=sum(1 for row in rows if row.plugin == plugin),
                leads=sum(len(p.content.leads) for p in mine), rejected=sum(len(p.content.rejected) for p in mine),
                records=sum(len(p.content.records) for p in mine),
                failed={row.id: failed[row.id] for row in rows if row.plugin == plugin and row.id in failed})
        if done:
            engine.wake()

    def _parse(self, row: inbox.StoredDelivery) -> WebhookContent:
        parser = self.verifiers.parser(row.plugin)
        if parser is None:
            known = self.verifiers.get(row.plugin) is not None
            raise LeadError(f"plugin {row.plugin!r} " + ("cannot parse its deliveries (no parse method)" if known
                            else "is not enabled any more; enable it and retry the dead letter"))
        request = WebhookRequest(row.plugin, row.headers, {}, row.body.encode(), row.received_at)
        try:
            return parser.parse(request)
        except LeadError:
            raise
        except Exception as exc:  # a plugin bug must not stop the inbox; the dead letter and the log say what
            logger.opt(exception=True).error("webhook parser of {} failed", row.plugin)
            raise LeadError(f"plugin {row.plugin!r} failed to parse the delivery: {type(exc).__name__}: {exc}") \
                from exc


def _suppressions(row: inbox.StoredDelivery, content: WebhookContent) -> list[tuple[suppression.Entry, str]]:
    try:
        return suppression.requested(content.suppress)
    except suppression.SuppressionError as exc:
        raise LeadError(f"plugin {row.plugin!r} asked to suppress a person halosync cannot name: {exc}; nothing of "
                        "the delivery was applied") from exc


def _finish(done: list[int], failed: dict[int, str],
            suppress: list[tuple[str, list[tuple[suppression.Entry, str]]]]) -> list[tuple[str, int, int]]:
    """In one transaction: the deliveries' marks, and the suppressions of those processed (the plugin's name their
    origin), so that an opt-out is on the list exactly when its delivery counts as done. Returns (plugin, entries
    added, writes cancelled) for the log."""
    inbox.finish(done, failed)
    out = []
    for plugin, entries in suppress:
        result = suppression.add_requested(entries, origin=plugin)
        out.append((plugin, result["added"], result["cancelled"]))
    return out


Apply = Callable[[list[_Parsed]], Awaitable[Any]]


def _stage_into(engine: EngineAPI, source: str) -> Apply:
    async def stage(group: list[_Parsed]) -> None:
        leads = [lead for p in group for lead in p.content.leads]
        await engine.stage(source, leads, [r for p in group for r in p.content.rejected])

    return stage


def _mirror_into(engine: EngineAPI, sink: str) -> Apply:
    async def mirror(group: list[_Parsed]) -> None:
        await engine.apply_mirror_records(sink, [r for p in group for r in p.content.records])

    return mirror


async def _in_groups(group: list[_Parsed], failed: dict[int, str], apply: Apply) -> None:
    """Apply a whole group; when that fails, each delivery alone, so only the bad ones fail."""
    if await _attempt(group, failed, apply) or len(group) == 1:
        return
    for p in group:
        await _attempt([p], failed, apply)


async def _attempt(group: list[_Parsed], failed: dict[int, str],
                   apply: Apply) -> bool:
    try:
        await apply(group)
    except StoreError:
        raise  # an outage, not a bad delivery: the rows stay pending
    except Exception as exc:  # anything else is about these deliveries: they fail, the inbox carries on
        if not isinstance(exc, HalosyncError):
            logger.opt(exception=True).error("the engine failed on {} webhook deliveries", len(group))
        if len(group) == 1:
            failed[group[0].row.id] = str(exc) or type(exc).__name__
        return False
    return True
