"""The daemon: one trio nursery per component, READY=1 after the last one is up, SIGHUP reloads, SIGTERM drains.

    Daemon.serve()
      ├── signals            SIGTERM/SIGINT → stop (drain within daemon.shutdown_grace), SIGHUP → reload
      ├── watchdog           WATCHDOG=1 while the main loop's heartbeat is fresh
      └── components         engine, control socket, HTTP listener, alerts (halosync.daemon.components)

This is the one composition root: it builds the store and each component, and hands each component itself as the
narrow ports of halosync.daemon.api that the component names (no component imports this module). The engine is the
engine component's, adopted once it is up; until then, and in a daemon without one, a NullEngine stands in.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import trio
from loguru import logger

from halosync import __version__, log
from halosync.config import loader
from halosync.contracts import Sink, Source
from halosync.daemon import failures, lock
from halosync.daemon.api import DaemonState, EngineAPI, HealthCache, PluginHealth, ReloadHook
from halosync.daemon.components import Component, default_components
from halosync.daemon.notify import Notifier
from halosync.daemon.null_engine import NullEngine
from halosync.errors import HalosyncError
from halosync.ha import Leadership, make_leadership
from halosync.ha.windows import StoreBudgets
from halosync.plugin.host import PluginHost
from halosync.plugin.manager import PluginManager
from halosync.store.gateway import Store
from halosync.store.querystats import QueryStats

if TYPE_CHECKING:
    from halosync.config.loader import Config
    from halosync.control.registry import ControlMethod


class Daemon:
    def __init__(self, config: Config, plugins: PluginManager, *, once: bool = False,
                 notifier: Notifier | None = None, components: list[Component] | None = None) -> None:
        self.config = config
        self.plugins = plugins
        self.once = once
        self.notifier = notifier or Notifier()
        self.version = __version__
        self._state: DaemonState = "starting"  # the lifecycle's; ``state`` adds the engine's paused flag
        self.started_at = time.time()
        self.store = Store(config.database_url, timeout=config.get("database.timeout"),
                           pool_size=config.get("database.pool_size"), background_checkpoint=True,
                           query_stats=QueryStats(slow_ms=config.get("database.slow_query_ms"),
                                                  explain=config.get("database.explain_slow_queries")),
                           # A daemon frozen mid-transaction loses it after one lease, so its locks (a lease row's,
                           # a page's, the planner's) never keep the daemon taking over from it waiting (issue 18).
                           idle_in_transaction=float(config.get("ha.lease_seconds", 15.0)))
        self.sources: dict[str, Source] = {}
        self.sinks: dict[str, Sink] = {}
        self.plugin_health: dict[str, PluginHealth] = {}
        self.engine: EngineAPI = NullEngine()
        self.health_cache = HealthCache()
        self.exit_code = 0
        self.heartbeat = time.monotonic()
        # What the watchdog loop decided: "off" (systemd watches no process of ours), "on"; and how many of its
        # turns withheld the ping because the heartbeat was stale (visible proof that a stuck loop goes unpinged).
        self.watchdog_state = "starting"
        self.withheld_pings = 0
        self.reload_hooks: list[ReloadHook] = []
        # Control-socket methods by name; components add their own (see halosync.control).
        self.control_methods: dict[str, ControlMethod] = {}
        self.stopping = trio.Event()  # set when shutdown begins: stop intake, finish in-flight work
        # Issue 18: which sources this daemon polls among those sharing the store (on SQLite: all of them).
        self.ha: Leadership = make_leadership(self.store, float(config.get("ha.lease_seconds", 15.0)),
                                              lambda: list(self.sources), __version__)
        # ... and the providers' budgets they share (HaloPSA's rolling window, Apollo's quotas): PostgreSQL only.
        self.budgets = None if self.store.sqlite else StoreBudgets(self.store, self.ha.member_id)
        self._components = components
        self._drains: list[Callable[[], Awaitable[None]]] = []

    @property
    def host(self) -> PluginHost:
        return PluginHost(self.config, self.budgets)

    @property
    def uptime_seconds(self) -> float:
        return time.time() - self.started_at

    @property
    def state(self) -> DaemonState:
        """The effective state: "paused" while running with the engine paused (the one place this is derived)."""
        if self._state == "running" and self.engine.paused:
            return "paused"
        return self._state

    def add_reload_hook(self, hook: ReloadHook) -> None:
        self.reload_hooks.append(hook)

    def remove_reload_hook(self, hook: ReloadHook) -> None:
        self.reload_hooks.remove(hook)

    def add_control_method(self, method: ControlMethod) -> None:
        self.control_methods[method.name] = method

    # --- lifecycle -----------------------------------------------------------------------------------

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> int:
        """Run until stopped; returns the process exit code."""
        # A shared lock on the state dir for the daemon's life: `halosync restore` refuses while any daemon runs.
        # And, on SQLite, the database file alone: a second daemon on it is refused, whatever its socket.
        with lock.held_by_daemon(self.config.state_dir), lock.database_held(self._sqlite_file()):
            return await self._serve(task_status=task_status)

    def _sqlite_file(self) -> Path | None:
        path = str(self.store.db.database) if self.store.sqlite else ""
        return None if path in ("", ":memory:") else Path(path).resolve()

    async def _serve(self, *, task_status: trio.TaskStatus[None]) -> int:
        # Signals are caught from the very start: a SIGTERM while the store opens must still exit cleanly.
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._signals, signals, nursery.cancel_scope)
                await self._start(nursery)
                task_status.started()
                await self.stopping.wait()
                await self._drain()
                nursery.cancel_scope.cancel()
        await self._close_plugins()
        self.store.close()
        self.notifier.close()
        logger.info("halosync stopped (exit {})", self.exit_code)
        return self.exit_code

    async def _start(self, nursery: trio.Nursery) -> None:
        """Open the store, instantiate plugins, start each component; READY=1 once the last one is up."""
        self.notifier.status("starting: opening the state store")
        await self.store.run(self.store.create_schema)
        if self.store.checkpointer is not None:
            nursery.start_soon(self.store.checkpointer.run)
        if self.budgets is not None:
            nursery.start_soon(self.budgets.run)
        self._instantiate_plugins()
        await nursery.start(self.ha.run)  # the first lease round is done before the engine starts
        self._drains.append(self.ha.leave)  # a clean stop hands every lease over at once
        components = self._components if self._components is not None else default_components(self)
        for component in components:
            if self.stopping.is_set():  # stopped during start-up: nothing is in flight yet
                return
            self.notifier.status(f"starting: {component.name}")
            await nursery.start(self._run_component, component)
            engine = getattr(component, "engine", None)  # the engine component's, ready before the front ends start
            if engine is not None:
                self.engine = engine
            drain = getattr(component, "drain", None)
            if drain is not None:
                self._drains.append(partial(drain, self))
        if self.stopping.is_set():
            return
        self._state = "running"
        self.beat()
        nursery.start_soon(self._watchdog)
        self.notifier.ready(f"running: {len(self.sources)} source(s), {len(self.sinks)} sink(s)")
        logger.info("halosync {} running (store {})", self.version, self.store.shown_url)
        if self.once and not self.engine.installed:
            logger.warning("run --once: no sync engine is installed, so there is nothing to do")
            self.request_stop(0)

    async def _run_component(self, component: Component, *, task_status: trio.TaskStatus[None]) -> None:
        await component.run(self, task_status=task_status)

    def request_stop(self, exit_code: int | None = None) -> None:
        """Begin a graceful shutdown (SIGTERM, `run --once` finishing, a fatal component error)."""
        if exit_code is not None:
            self.exit_code = exit_code
        if not self.stopping.is_set():
            self._state = "stopping"
            self.notifier.stopping()
            self.notifier.status("stopping: finishing in-flight writes")
            self.stopping.set()

    async def _drain(self) -> None:
        grace = float(self.config.get("daemon.shutdown_grace"))
        # Shielded: the drain must run to its deadline even if the caller is being cancelled.
        with trio.move_on_after(grace, shield=True) as scope:
            async with trio.open_nursery() as nursery:
                for drain in self._drains:
                    nursery.start_soon(drain)
        if scope.cancelled_caught:
            logger.warning("shutdown grace of {:g} s ran out; unfinished writes resume at next start", grace)

    async def _signals(self, signals: AsyncIterator[int], cancel_scope: trio.CancelScope) -> None:
        async for signum in signals:
            if signum == signal.SIGHUP:
                if self.state == "running":
                    await self.reload()
                else:
                    logger.warning("SIGHUP ignored while {}", self.state)
            elif self.stopping.is_set():
                logger.warning("second stop signal: stopping now, without waiting for in-flight writes")
                cancel_scope.cancel()
            else:
                logger.info("received {}: stopping", signal.Signals(signum).name)
                self.request_stop()

    async def _watchdog(self) -> None:
        """Ping systemd's watchdog every half period, but only while the main loop's heartbeat is fresh."""
        usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
        pid = os.environ.get("WATCHDOG_PID")
        if not usec or (pid and pid != str(os.getpid())):  # no watchdog, or it watches another process
            self.watchdog_state = "off"
            return
        self.watchdog_state = "on"
        stale_after = float(self.config.get("daemon.watchdog_stale_after"))
        stale = False
        while True:
            # The engine's main loop calls beat() on every turn (also while idle); a stuck engine stops the pings
            # and systemd restarts us. Without an engine, this loop's own wake-ups prove the event loop is alive.
            if not self.engine.installed:
                self.beat()
            age = time.monotonic() - self.heartbeat
            if age < stale_after:
                self.notifier.watchdog()
                stale = False
            elif not stale:
                stale = True
                self.withheld_pings += 1
                logger.error("main loop heartbeat is {:.0f} s old (limit daemon.watchdog_stale_after = {:g} s); "
                             "withholding watchdog pings so that systemd restarts the daemon", age, stale_after)
            else:
                self.withheld_pings += 1
            await trio.sleep(usec / 2e6)

    def beat(self) -> None:
        """Proof that the main loop turns. The engine calls this on every turn, and at least every
        ``daemon.watchdog_stale_after / 2`` seconds while idle; without it the watchdog pings stop."""
        self.heartbeat = time.monotonic()

    async def reload(self) -> bool:
        """Re-read the configuration. A bad new configuration is refused and the old one kept.

        Order: validate the new file, build the new plugin objects (a plugin refusing its new settings also
        refuses the reload), switch over, run the components' reload hooks, then close the old plugin objects.
        """
        self.notifier.reloading()
        self.notifier.status("reloading configuration")
        path = self.config.path
        try:
            new = loader.load(path, self.plugins.config_specs())
            log.setup(new)  # a log_dir that cannot be written refuses the reload too
            sources, sinks = self._plugin_objects(new)
        except HalosyncError as exc:
            log.setup(self.config)
            logger.error("reload refused, keeping the running configuration: {}", _one_paragraph(exc))
            self.notifier.ready("running (reload refused: see the log)")
            return False
        old = self._plugin_list()
        self.config, self.sources, self.sinks = new, sources, sinks
        self.store.query_stats.configure(slow_ms=new.get("database.slow_query_ms"),
                                         explain=new.get("database.explain_slow_queries"))
        self._track_health()
        for health in self.plugin_health.values():  # the operator may have fixed what failed: the engine's
            failures.forget(health)                  # reload hook tries again now
        for hook in list(self.reload_hooks):
            try:
                await hook()
            except HalosyncError as exc:
                logger.error("reload: {}", exc)
        await self._close(old)
        logger.info("configuration reloaded from {}", path or "<defaults>")
        self.notifier.ready(f"running: {len(self.sources)} source(s), {len(self.sinks)} sink(s)")
        return True

    # --- plugins --------------------------------------------------------------------------------------

    def _instantiate_plugins(self) -> None:
        self.sources, self.sinks = self._plugin_objects(self.config)
        self._track_health()

    def _plugin_objects(self, config: Config) -> tuple[dict[str, Source], dict[str, Sink]]:
        host = PluginHost(config, self.budgets)
        return {s.name: s for s in self.plugins.sources(host)}, {s.name: s for s in self.plugins.sinks(host)}

    def _track_health(self) -> None:
        for name in self.sources:
            self.plugin_health.setdefault(name, PluginHealth("source"))
        for name in self.sinks:
            self.plugin_health.setdefault(name, PluginHealth("sink"))

    async def _close_plugins(self) -> None:
        await self._close(self._plugin_list())

    def _plugin_list(self) -> list[Source | Sink]:
        return [*self.sources.values(), *self.sinks.values()]

    @staticmethod
    async def _close(objects: list[Source | Sink]) -> None:
        with trio.move_on_after(5, shield=True):
            for obj in objects:
                try:
                    await obj.aclose()
                except Exception:  # closing is best effort; the log says which plugin failed
                    logger.opt(exception=True).warning("closing {} failed", obj.name)

    def record_success(self, plugin: str) -> None:
        failures.succeeded(self.plugin_health.setdefault(plugin, PluginHealth("unknown")), plugin)

    def record_failure(self, plugin: str, exc: BaseException, doing: str) -> None:
        """A provider call of ``plugin`` failed while ``doing``: its state, its next try, and (if news) a log line.
        See halosync.daemon.failures."""
        failures.failed(self.plugin_health.setdefault(plugin, PluginHealth("unknown")), plugin, exc, doing,
                        base=float(self.config.get("sync.retry_base", 5.0)),
                        cap=float(self.config.get("sync.retry_cap", 900.0)))

    def retry_in(self, plugin: str) -> float:
        """Seconds until ``plugin`` may be tried again after a failure (0: now; infinite: after a reload)."""
        health = self.plugin_health.get(plugin)
        return health.retry_in() if health is not None else 0.0

    def record_error(self, plugin: str, error: str, *, state: str = "degraded") -> None:
        """A problem that is no provider call's (an alert receiver, a plugin's configuration): shown, not retried."""
        health = self.plugin_health.setdefault(plugin, PluginHealth("unknown"))
        health.state, health.last_error, health.last_error_at = state, error, time.time()

    def track_health(self, name: str, health: PluginHealth) -> PluginHealth:
        return self.plugin_health.setdefault(name, health)

    def forget_health(self, name: str) -> None:
        self.plugin_health.pop(name, None)


def _one_paragraph(exc: HalosyncError) -> str:
    """A ConfigError lists one problem a line; in a log record they read better joined."""
    return "; ".join(str(exc).splitlines())


__all__ = ["Daemon", "PluginHealth"]
