"""The sync engine: what runs between the sources and the sinks, and what front ends ask of it (``EngineAPI``).

    Engine.start(nursery)
      ├── mirror refresher    sink.start(), then page list_records into the mirror; again every sync.mirror_refresh
      ├── planner             pending staged leads -> matches, identities, outbox rows, links (after the mirror)
      ├── sink workers        per sink, sync.concurrency of them: outbox -> sink.write -> results
      └── schedulers          per source, a pull every sync.interval  (or, with `run --once`, one cycle)

The store is the queue; ``wakeup`` only tells idle tasks to look again.
"""

from __future__ import annotations

import heapq
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import Any, Protocol, TypeVar

import trio
from loguru import logger

from halosync import metrics
from halosync.contracts import EntityKind, Rejected, SinkRecord, Source
from halosync.daemon import run_report
from halosync.daemon.api import HealthRecorder, Lifecycle, ReloadRegistration, StateView
from halosync.daemon.failures import describe
from halosync.daemon.run_report import RunReport
from halosync.engine import backfill, dryrun, mirror, outage, outbox, pull, suppression, synclog
from halosync.engine.figures import queue_figures
from halosync.engine.ledger import Ledger, read_totals
from halosync.engine.matching import Matcher
from halosync.engine.planner import PlanSettings, process_pending
from halosync.engine.rules import RuleMatcher
from halosync.engine.settings import EngineSettings
from halosync.engine.staging import KEEP_CURSOR, stage_page
from halosync.engine.workers import SinkWorkers, Wakeup, WorkerContext
from halosync.errors import HalosyncError
from halosync.model import Lead
from halosync.store.models import KV

PLANNER_POLL = 2.0
T = TypeVar("T")
KINDS: tuple[EntityKind, ...] = ("company", "person")


class EnginePorts(StateView, Lifecycle, ReloadRegistration, HealthRecorder, Protocol):
    """What the engine needs of the daemon: its plugins and configuration, the lifecycle (beat, stop after `run
    --once`), a reload hook, and the plugins' health it records."""


class Engine:
    installed = True  # halosync.daemon.api.EngineAPI: a real engine runs

    def __init__(self, daemon: EnginePorts) -> None:
        self.daemon = daemon
        self.store = daemon.store
        self.settings = EngineSettings.from_config(daemon.config)
        self.concurrency = self.settings.concurrency
        # The daemon's member id on a shared store (issue 18): a claim whose daemon stopped heartbeating is released.
        self.worker_id = daemon.ha.member_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.wakeup = Wakeup()
        self.mirror_ready = trio.Event()  # every sink's mirror loaded: matching may start (replaced by a reload)
        self._mirror_kick = trio.Event()  # refresh the mirrors now
        self._mirrored: set[str] = set()  # sinks whose mirror has been loaded at least once
        self.draining = False
        self._stopped = trio.Event()  # set when draining begins
        self._kick = trio.Event()  # set (and replaced) by a reload or the drain: waits for a retry end now
        self.run_failures: dict[str, str] = {}  # `run --once`: plugin -> why it failed
        self.run_report: RunReport | None = None  # `run --once`: gathered before the daemon stops
        self.failed_this_run = 0
        self._committing = 0  # units between their transaction and their after_commit (see `commit`)
        self._settled = trio.Event()  # set (and replaced) each time the last such unit is through
        self._due: list[float] = []  # heap: when rows put back by this process's units fall due again
        self._paused = False
        self._matchers: list[Matcher] = []
        self._suppression: suppression.SuppressionRules | None = None
        self._sources: dict[str, pull.SourceState] = {}
        self._workers: dict[str, SinkWorkers] = {}
        self._nursery: trio.Nursery | None = None

    # --- lifecycle -----------------------------------------------------------------------------------

    async def prepare(self) -> None:
        """Before anything runs: in-flight rows of a daemon that died go back to be reconciled, and the paused
        flag survives restarts."""
        released = await self.release_stale()
        if released:
            logger.info("{} write(s) were in flight when the daemon stopped; they are checked against the sink "
                        "before being written again", released)
        row = await self.store.run(lambda: KV.get_or_none(KV.key == "paused"))
        self._paused = bool(row and row.value)
        self._matchers = self._load_matchers()
        await self._load_suppression()
        await self._backfill_new_sinks()

    async def _load_suppression(self) -> None:
        """Issue 16: the [suppression] rules, and the list's config entries brought in step with the config."""
        table = self.daemon.config.section("suppression")
        if not table.get("enabled", True):
            self._suppression = None
            return
        path = self.daemon.config.path
        entries = suppression.entries_from_config(table, path.parent if path else None)
        changed = await self.store.transaction(suppression.sync_config, entries)
        if changed["added"] or changed["removed"]:
            logger.info("suppression list: {} entr(ies) from the configuration added, {} removed",
                        changed["added"], changed["removed"])
        self._suppression = suppression.SuppressionRules.from_config(table,
                                                                     strip_plus_tags=self.settings.strip_plus_tags)

    async def _backfill_new_sinks(self) -> None:
        """Leads processed before a sink was configured are planned again, so that they reach it too."""
        if self.settings.dry_run:
            return
        new, replanned = await self.store.transaction(backfill.note_sinks, list(self.daemon.sinks))
        if new:
            logger.info("new sink(s) {}: {} lead(s) already processed are planned again so that they reach "
                        "{} too", ", ".join(new), replanned, "them" if len(new) > 1 else "it")
            self.wakeup.wake()

    async def release_stale(self) -> int:
        stale_before = None if self.store.sqlite else time.time() - 3 * self.settings.request_timeout - 60
        gone = [o["id"] for o in self.daemon.ha.describe()["others"] if o["state"] == "gone"]
        released: int = await self.store.transaction(outbox.release_stale, stale_before, socket.gethostname(), gone)
        return released

    def _load_matchers(self) -> list[Matcher]:
        found: list[Matcher] = list(self.daemon.plugins.matchers(self.daemon.host))
        if not found:  # no matcher plugin loaded: the built-in rules still apply
            found = [RuleMatcher.from_config(self.daemon.config.section("match"))]
        return found

    def plan_settings(self) -> PlanSettings:
        sinks = {name: tuple(sink.kinds) for name, sink in self.daemon.sinks.items()}
        return PlanSettings(sinks, self._matchers, self.settings.policy, self.settings.strip_plus_tags,
                            self._suppression)

    def _pull_context(self, source: str) -> pull.PullContext:
        ha = self.daemon.ha
        return pull.PullContext(commit=self.commit, wake=self.wakeup.wake, beat=self.daemon.beat,
                                draining=lambda: self.draining, holds=lambda: ha.holds(source),
                                fence=ha.fence(source))

    def _worker_context(self) -> WorkerContext:
        return WorkerContext(
            store=self.store, commit=self.commit, wakeup=self.wakeup, worker_id=self.worker_id,
            sink=lambda name: self.daemon.sinks.get(name), settings=lambda: self.settings,
            concurrency=lambda: self.concurrency, draining=lambda: self.draining, paused=lambda: self.paused,
            mirror_ready=lambda: self.mirror_ready.is_set(), next_due_in=self.next_due_in, pause_for=self.pause_for,
            retry_in=lambda plugin: self.daemon.retry_in(plugin),
            record_success=lambda plugin: self.daemon.record_success(plugin),
            record_failure=lambda plugin, exc, doing: self.daemon.record_failure(plugin, exc, doing))

    def _dry_run_context(self) -> dryrun.DryRunContext:
        return dryrun.DryRunContext(store=self.store, plan=self.plan_settings(), plan_batch=self.settings.plan_batch)

    def start(self, nursery: trio.Nursery) -> None:
        self._nursery = nursery
        self._keep_running(nursery, "the sink mirror refresh", self._mirror_loop)
        self._keep_running(nursery, "the planner", self._planner_loop)
        for name in self.daemon.sinks:
            self._start_workers(name)
        if self.daemon.once:
            nursery.start_soon(self._one_cycle)  # a one-shot run stops on a lost store (exit 1), like a command
        else:
            for source in self.daemon.sources.values():
                self._keep_running(nursery, f"the schedule of {source.name}", self._schedule, source.name)
        self.daemon.add_reload_hook(self.reload)

    def _keep_running(self, nursery: trio.Nursery, what: str, loop: Callable[..., Awaitable[None]],
                      *args: Any) -> None:
        """Start a loop that outlasts the store going away (see ``outage``)."""
        nursery.start_soon(partial(outage.outlasting, what, loop, *args, stop=lambda: self.draining,
                                   beat=self.daemon.beat))

    def _start_workers(self, sink: str) -> None:
        assert self._nursery is not None
        workers = self._workers.setdefault(sink, SinkWorkers(self._worker_context(), sink))
        workers.resize(self._nursery, self.concurrency)

    async def reload(self) -> None:
        self.settings = EngineSettings.from_config(self.daemon.config)
        self._matchers = self._load_matchers()
        try:
            await self._load_suppression()
        except HalosyncError as exc:  # a bad [suppression] file: the rules in force stay, the operator is told
            logger.error("reload: [suppression] not applied, the previous list and rules stay: {}", exc)
        if set(self.daemon.sinks) - self._mirrored:
            # A new sink: nothing is matched or written until its mirror is loaded, or leads would be created
            # there again for records it already holds.
            self.mirror_ready = trio.Event()
        self._mirror_kick.set()  # refresh now: a new sink's mirror, or a sink that waited for this reload
        await self._backfill_new_sinks()
        self.set_concurrency(self.settings.concurrency)  # starts the new sinks' workers
        # The daemon has forgotten every plugin's failures (the operator may have fixed them): loops waiting out a
        # backoff, or for this reload after a 401/403, try again now.
        self._kick.set()
        self._kick = trio.Event()
        if self._nursery is not None and not self.daemon.once:
            for name in self.daemon.sources:
                if name not in self._sources:
                    self._keep_running(self._nursery, f"the schedule of {name}", self._schedule, name)

    async def drain(self) -> None:
        """Stop intake (pulls, planning, claiming); let writes in flight finish and settle."""
        self.draining = True
        self._stopped.set()
        self._kick.set()
        self._mirror_kick.set()
        self.wakeup.wake()
        for workers in self._workers.values():
            if workers.running:
                await workers.idle.wait()

    async def commit(self, ledger: Ledger, unit: Callable[[], T]) -> T:
        """Run ``unit`` in one transaction, then ``after_commit``. While a unit is between the two, ``settled``
        is false, so `run --once` never reads the outbox as empty before the tally of what failed is in."""
        self._committing += 1
        try:
            result = await outage.transaction(self.store, ledger, unit, draining=lambda: self.draining)
            self.after_commit(ledger)
            return result
        finally:
            self._committing -= 1
            if self._committing == 0:
                self._settled.set()
                self._settled = trio.Event()

    @property
    def settled(self) -> bool:
        return self._committing == 0

    async def until_settled(self) -> None:
        event = self._settled  # taken before looking: a unit finishing in between has set it
        if not self.settled:
            await event.wait()

    def next_due_in(self) -> float | None:
        """Seconds until the next row this process put back (a retry, a rate limit) falls due, if any; rows put
        back by an earlier process or another daemon are found by the workers' idle poll."""
        now = time.time()
        while self._due and self._due[0] <= now:  # due already: the claim that follows this wait takes it
            heapq.heappop(self._due)
        return self._due[0] - now if self._due else None

    def after_commit(self, ledger: Ledger) -> None:
        """Once a unit of work is committed: metrics, the retry clock, and the plugins' notifications."""
        ledger.publish_metrics()
        synclog.failures(ledger)  # every dead letter and retry, in sync.log (issue 15)
        if ledger.retry_at is not None:
            heapq.heappush(self._due, ledger.retry_at)
        self.failed_this_run += ledger.dead
        for kind, event in ledger.events:
            if kind == "failed":
                self.daemon.plugins.lead_failed(event)
            else:
                self.daemon.plugins.lead_synced(event)

    # --- the loops -----------------------------------------------------------------------------------

    async def pause_for(self, seconds: float) -> None:
        """Wait ``seconds`` (may be infinite), or until a reload or the drain says to look again."""
        kick = self._kick
        with trio.move_on_after(seconds):
            await kick.wait()

    async def _mirror_loop(self) -> None:
        while not self.draining:
            self._mirror_kick = trio.Event()  # a kick from here on (a reload, the drain) asks for another round
            ok = await self._refresh_mirrors()
            if ok and set(self.daemon.sinks) <= self._mirrored:
                logger.debug("sink mirror refreshed")
                self.mirror_ready.set()
                self.wakeup.wake()
            # A failed sink is tried again when its backoff ends (or after a reload, for a 401/403).
            wait = self.settings.mirror_refresh if ok else min(
                [self.settings.mirror_refresh, *(self.daemon.retry_in(n) for n in self.daemon.sinks)])
            with trio.move_on_after(max(wait, 0.05)):
                await self._mirror_kick.wait()

    async def _refresh_mirrors(self) -> bool:
        ok = True
        for name, sink in list(self.daemon.sinks.items()):
            if self.daemon.retry_in(name) > 0:  # backing off after a failure
                ok = False
                continue
            try:
                await sink.start()
                for kind in KINDS:
                    if kind not in sink.kinds:
                        continue
                    since = await self.store.run(mirror.watermark, name, kind)
                    mark = since
                    async with pull.closing(sink.list_records(kind, since=since)) as pages:
                        async for page in pages:
                            await self.store.transaction(mirror.upsert, name, page.records)
                            mark = page.watermark or mark
                            self.daemon.beat()
                    await self.store.transaction(mirror.save_watermark, name, kind, mark)
                self._mirrored.add(name)
                self.daemon.record_success(name)
            except Exception as exc:  # any failure of a sink (or a bug in it): that sink waits, the rest go on
                ok = False
                self.daemon.record_failure(name, exc, "refreshing the mirror (matching waits for it)")
        return ok

    async def _planner_loop(self) -> None:
        next_release = time.monotonic() + 60
        while not self.draining:
            self.daemon.beat()
            if not self.store.sqlite and time.monotonic() > next_release:  # claims of daemons that died
                # Every lease length on a shared store (issue 18): a dead daemon's writes resume that fast.
                next_release = time.monotonic() + min(60.0, float(self.daemon.config.get("ha.lease_seconds", 60)))
                if await self.release_stale():
                    self.wakeup.wake()
            event = self.wakeup.event
            if not self.mirror_ready.is_set():
                await self.wakeup.wait(event, PLANNER_POLL)
                continue
            taken = await self.plan_once()
            if taken:
                self.wakeup.wake()
                continue
            await self.wakeup.wait(event, PLANNER_POLL)

    async def plan_once(self) -> int:
        ledger, settings = Ledger(), self.plan_settings()

        def unit() -> int:
            taken = process_pending(settings, self.settings.plan_batch, ledger, lock=not self.store.sqlite)
            ledger.flush()
            return taken

        started = time.perf_counter()
        taken = await self.commit(ledger, unit)
        if taken:
            logger.debug("planned {} staged lead(s) in {:.3f} s", taken, time.perf_counter() - started)
        return taken

    async def _schedule(self, name: str) -> None:
        self._sources.setdefault(name, pull.SourceState())
        while not self.draining:
            if not self.daemon.ha.holds(name):  # issue 18: another daemon polls it; take over when it stops
                changed = self.daemon.ha.changed
                with trio.move_on_after(self.settings.interval):
                    await changed.wait()
                continue
            if not self._paused and self.daemon.retry_in(name) == 0:
                await self._run_pull(name, full=False, dry_run=self.settings.dry_run, emit=_ignore)
            # After a failure the source's backoff decides (a quota's reset, a reload after a 401), not the interval.
            retry_in = self.daemon.retry_in(name)
            await self.pause_for(retry_in if retry_in > 0 else self.settings.interval)

    async def _one_cycle(self) -> None:
        """`run --once`: every source to its end, then the outbox drained (waiting on retries and rate limits).
        Exit 1 when a source failed, a sink refuses the credentials (nothing changes before the configuration
        does), or a lead failed for good; ``run_failures`` says which plugin failed and why."""
        started, before = time.time(), await self.totals()
        for name in list(self.daemon.sources):
            summary = await self._run_pull(name, full=False, dry_run=self.settings.dry_run, emit=_ignore)
            if not summary["ok"]:
                self.run_failures[name] = str(summary["error"])
        while not self.draining:
            event = self.wakeup.event
            if self._sinks_refused():
                break
            left = await self.store.run(outbox.unfinished)
            if left == 0 and not self.settled:  # a unit between its commit and its tally: wait for the tally
                await self.until_settled()
                continue
            # Done once nothing is left and every sink's mirror has loaded: a run that stopped before would not
            # have checked its sinks, and would cut a mirror listing off half-way.
            if (left == 0 and self.mirror_ready.is_set()) or self.settings.dry_run:
                break
            await self.wakeup.wait(event, 1.0)
        self.run_report = await self.store.run(run_report.gather, started, before, await self.totals(),
                                               self.run_failures)
        self.daemon.request_stop(0 if self.failed_this_run == 0 and not self.run_failures else 1)

    def _sinks_refused(self) -> bool:
        """Whether a sink waits for a reload (a 401/403): then `run --once` ends, naming it."""
        refused = {name: self.daemon.plugin_health[name].last_error for name in self.daemon.sinks
                   if self.daemon.retry_in(name) == float("inf")}
        self.run_failures.update({name: str(error) for name, error in refused.items()})
        return bool(refused)

    async def _run_pull(self, name: str, *, full: bool, dry_run: bool, emit: pull.Emit) -> dict[str, Any]:
        source = self.daemon.sources.get(name)
        if source is None:
            raise HalosyncError(f"no source named {name!r}; enabled sources: {', '.join(self.daemon.sources)}")
        state = self._sources.setdefault(name, pull.SourceState())
        async with state.lock:
            state.running, state.last_sync_at = True, time.time()
            started, summary = time.perf_counter(), {"source": name, "ok": True}
            try:
                cursor = None if full else (await self.store.run(pull.read_cursor, name))[0]
                if dry_run:
                    await self.mirror_ready.wait()
                    plan = await dryrun.dry_run(self._dry_run_context(), source, cursor, full=full, emit=emit)
                    summary.update(plan=plan)
                    logger.info("{}: dry run, nothing written; the plan: {}", name,
                                ", ".join(f"{n} {what}" for what, n in plan["counts"].items()))
                else:
                    if not self.daemon.ha.holds(name):
                        holder = self.daemon.ha.holder_of(name) or "another daemon"
                        raise HalosyncError(f"{name} is polled by {holder} (this daemon stands by for it); "
                                            "run the sync on that daemon, or stop it so that this one takes over")
                    totals = await pull.pull_source(self._pull_context(name), source, cursor, full=full,
                                                    emit=emit)
                    summary.update(staged=totals.staged, unchanged=totals.unchanged, rejected=totals.rejected)
                state.last_success_at, state.last_error, state.failing_since = time.time(), None, None
                self.daemon.record_success(name)
            except Exception as exc:  # any failure of a source (or a bug in it): this source waits, the rest go on
                state.last_error = describe(exc)
                state.failing_since = state.failing_since or state.last_sync_at
                summary.update(ok=False, error=state.last_error)
                self.daemon.record_failure(name, exc, "pull")
            finally:
                state.running = False
            metrics.observe_sync_run(name, time.perf_counter() - started, bool(summary["ok"]))
            if not dry_run:
                await self.store.transaction(pull.record_outcome, name, bool(summary["ok"]), state.last_error)
            return summary

    # --- EngineAPI: reading --------------------------------------------------------------------------

    async def totals(self) -> dict[str, int]:
        return await self.store.run(read_totals)

    async def queue(self) -> dict[str, Any]:
        figures = await self.store.run(queue_figures)
        metrics.set_queue(figures)
        return figures

    async def sources_status(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        now = time.time()
        for name in self.daemon.sources:
            state = self._sources.get(name) or pull.SourceState()
            _, moved_at = await self.store.run(pull.read_cursor, name)
            out[name] = {"last_sync_at": state.last_sync_at, "last_success_at": state.last_success_at,
                         "last_error": state.last_error, "failing_since": state.failing_since,
                         "running": state.running,
                         "cursor_age_seconds": round(now - moved_at, 3) if moved_at else None}
        return out

    # --- EngineAPI: control --------------------------------------------------------------------------

    def pause(self) -> None:
        self._set_paused(True)

    def resume(self) -> None:
        self._set_paused(False)
        self.wakeup.wake()

    def paused_turns(self) -> int:
        """How many times, in all, a sink worker looked for work and left it because the engine was paused."""
        return sum(workers.paused_turns for workers in self._workers.values())

    @property
    def paused(self) -> bool:
        return self._paused

    def _set_paused(self, paused: bool) -> None:
        self._paused = paused  # the daemon's effective state reads it (halosync.daemon.app.Daemon.state)
        metrics.PAUSED.set(1 if paused else 0)
        if self._nursery is not None:
            self._nursery.start_soon(self.store.transaction, _save_paused, paused)

    def set_concurrency(self, workers: int) -> None:
        if workers < 1:
            raise HalosyncError(f"concurrency must be at least 1, not {workers}")
        self.concurrency = workers
        for name in self.daemon.sinks:
            self._start_workers(name)
        self.wakeup.wake()

    async def sync(self, source: str | None = None, *, full: bool = False,
                   dry_run: bool = False) -> AsyncIterator[dict[str, Any]]:
        names = [source] if source else list(self.daemon.sources)
        for name in names:
            if name not in self.daemon.sources:
                raise HalosyncError(f"no source named {name!r}; enabled sources: "
                                    f"{', '.join(self.daemon.sources) or 'none'}")
        send, receive = trio.open_memory_channel[dict[str, Any]](float("inf"))
        assert self._nursery is not None, "the engine is not running"

        async def run() -> None:
            async with send:
                summaries = []
                for name in names:
                    summaries.append(await self._run_pull(name, full=full, dry_run=dry_run, emit=send.send_nowait))
                send.send_nowait({"type": "done", "dry_run": dry_run, "sources": summaries,
                                  "totals": await self.totals()})

        self._nursery.start_soon(run)
        async with receive:
            async for event in receive:
                yield event

    def wake(self) -> None:
        self.wakeup.wake()

    # --- EngineAPI: intake ---------------------------------------------------------------------------

    async def stage(self, source: str, leads: Sequence[Lead], rejected: Sequence[Rejected] = ()) -> int:
        ledger = Ledger()

        def unit() -> int:
            result = stage_page(source, leads, rejected, KEEP_CURSOR, ledger, via="push")
            ledger.flush()
            return result.staged

        staged = await self.commit(ledger, unit)
        self.wakeup.wake()
        return staged

    async def apply_mirror_records(self, sink: str, records: Sequence[SinkRecord]) -> None:
        await self.store.transaction(mirror.upsert, sink, list(records))


def _save_paused(paused: bool) -> None:
    KV.insert(key="paused", value=paused, updated_at=time.time()).on_conflict(
        conflict_target=[KV.key], update={KV.value: paused, KV.updated_at: time.time()}).execute()


def _ignore(event: dict[str, Any]) -> None:
    pass


__all__ = ["Engine", "Source"]
