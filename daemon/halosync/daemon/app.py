"""The daemon: one trio nursery per component, READY=1 after the last one is up, SIGHUP reloads, SIGTERM drains.

    Daemon.serve()
      ├── signals            SIGTERM/SIGINT → stop (drain within daemon.shutdown_grace), SIGHUP → reload
      ├── watchdog           WATCHDOG=1 while the main loop's heartbeat is fresh
      └── components         engine, control socket, HTTP listener, alerts (halosync.daemon.components)

Front ends read the daemon's state through this object: ``state``, ``engine`` (halosync.daemon.api.EngineAPI),
``sources``/``sinks``, ``plugin_health`` and ``config``.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio
from loguru import logger

from halosync import __version__, log
from halosync.config import loader
from halosync.contracts import Sink, Source
from halosync.daemon import lock
from halosync.daemon.api import DaemonState, EngineAPI
from halosync.daemon.components import Component, default_components
from halosync.daemon.notify import Notifier
from halosync.errors import ConfigError, HalosyncError
from halosync.plugin.host import PluginHost
from halosync.plugin.manager import PluginManager
from halosync.store.gateway import Store

if TYPE_CHECKING:
    from halosync.config.loader import Config


@dataclass
class PluginHealth:
    kind: str
    state: str = "starting"  # starting | connected | degraded | disconnected | failed
    last_success_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class Daemon:
    def __init__(self, config: Config, plugins: PluginManager, *, once: bool = False,
                 notifier: Notifier | None = None, components: list[Component] | None = None) -> None:
        self.config = config
        self.plugins = plugins
        self.once = once
        self.notifier = notifier or Notifier()
        self.version = __version__
        self.state: DaemonState = "starting"
        self.started_at = time.time()
        self.store = Store(config.database_url, timeout=config.get("database.timeout"),
                           pool_size=config.get("database.pool_size"))
        self.sources: dict[str, Source] = {}
        self.sinks: dict[str, Sink] = {}
        self.plugin_health: dict[str, PluginHealth] = {}
        self.engine: EngineAPI | None = None
        self.exit_code = 0
        self.heartbeat = time.monotonic()
        self.reload_hooks: list[Callable[[], Awaitable[None]]] = []
        # Control-socket methods by name; components add their own (see halosync.control).
        self.control_methods: dict[str, Any] = {}
        self.stopping = trio.Event()  # set when shutdown begins: stop intake, finish in-flight work
        self._components = components
        self._drains: list[Callable[[], Awaitable[None]]] = []

    @property
    def host(self) -> PluginHost:
        return PluginHost(self.config)

    @property
    def uptime_seconds(self) -> float:
        return time.time() - self.started_at

    # --- lifecycle -----------------------------------------------------------------------------------

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> int:
        """Run until stopped; returns the process exit code."""
        # A shared lock on the state dir for the daemon's life: `halosync restore` refuses while any daemon runs.
        with lock.held_by_daemon(self.config.state_dir):
            return await self._serve(task_status=task_status)

    async def _serve(self, *, task_status: trio.TaskStatus[None]) -> int:
        self.notifier.status("starting: opening the state store")
        await self.store.run(self.store.create_schema)
        self._instantiate_plugins()
        components = self._components if self._components is not None else default_components(self)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._signals, nursery.cancel_scope)
            for component in components:
                self.notifier.status(f"starting: {component.name}")
                await nursery.start(self._run_component, component)
                drain = getattr(component, "drain", None)
                if drain is not None:
                    self._drains.append(lambda c=component: c.drain(self))  # type: ignore[attr-defined]
            self.state = "running"
            nursery.start_soon(self._watchdog)
            self.notifier.ready(f"running: {len(self.sources)} source(s), {len(self.sinks)} sink(s)")
            logger.info("halosync {} running (store {})", self.version, self.store.shown_url)
            task_status.started()
            await self.stopping.wait()
            await self._drain()
            nursery.cancel_scope.cancel()
        await self._close_plugins()
        self.store.close()
        logger.info("halosync stopped (exit {})", self.exit_code)
        return self.exit_code

    async def _run_component(self, component: Component, *, task_status: trio.TaskStatus[None]) -> None:
        await component.run(self, task_status=task_status)

    def request_stop(self, exit_code: int | None = None) -> None:
        """Begin a graceful shutdown (SIGTERM, `run --once` finishing, a fatal component error)."""
        if exit_code is not None:
            self.exit_code = exit_code
        if not self.stopping.is_set():
            self.state = "stopping"
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

    async def _signals(self, cancel_scope: trio.CancelScope) -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
            async for signum in signals:
                if signum == signal.SIGHUP:
                    await self.reload()
                elif self.stopping.is_set():
                    logger.warning("second stop signal: stopping now")
                    cancel_scope.cancel()
                else:
                    logger.info("received {}: stopping", signal.Signals(signum).name)
                    self.request_stop()

    async def _watchdog(self) -> None:
        usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
        stale_after = float(self.config.get("daemon.watchdog_stale_after"))
        interval = usec / 2e6 if usec else 1.0
        while True:
            # The engine's main loop calls beat() on every turn; a stuck engine stops the pings and systemd
            # restarts us. Without an engine, this loop's own wake-ups prove the event loop is alive.
            if self.engine is None:
                self.beat()
            if usec and time.monotonic() - self.heartbeat < stale_after:
                self.notifier.watchdog()
            await trio.sleep(interval)

    def beat(self) -> None:
        self.heartbeat = time.monotonic()

    async def reload(self) -> bool:
        """Re-read the configuration. A bad new configuration is refused and the old one kept."""
        self.notifier.reloading()
        path = self.config.path
        try:
            new = loader.load(path, self.plugins.config_specs())
        except ConfigError as exc:
            logger.error("reload refused, keeping the running configuration:\n{}", exc)
            self.notifier.ready("running (reload refused: configuration invalid)")
            return False
        self.config = new
        log.setup(new)
        for hook in list(self.reload_hooks):
            try:
                await hook()
            except HalosyncError as exc:
                logger.error("reload: {}", exc)
        logger.info("configuration reloaded from {}", path or "<defaults>")
        self.notifier.ready("running (reloaded)")
        return True

    # --- plugins --------------------------------------------------------------------------------------

    def _instantiate_plugins(self) -> None:
        host = self.host
        self.sources = {s.name: s for s in self.plugins.sources(host)}
        self.sinks = {s.name: s for s in self.plugins.sinks(host)}
        for name in self.sources:
            self.plugin_health.setdefault(name, PluginHealth("source"))
        for name in self.sinks:
            self.plugin_health.setdefault(name, PluginHealth("sink"))

    async def _close_plugins(self) -> None:
        with trio.move_on_after(5, shield=True):
            for obj in [*self.sources.values(), *self.sinks.values()]:
                try:
                    await obj.aclose()
                except Exception:  # closing is best effort at exit; the log says which plugin failed
                    logger.opt(exception=True).warning("closing {} failed", getattr(obj, "name", obj))

    def record_success(self, plugin: str) -> None:
        health = self.plugin_health.setdefault(plugin, PluginHealth("unknown"))
        health.state, health.last_success_at = "connected", time.time()

    def record_error(self, plugin: str, error: str, *, state: str = "degraded") -> None:
        health = self.plugin_health.setdefault(plugin, PluginHealth("unknown"))
        health.state, health.last_error, health.last_error_at = state, error, time.time()


def load_daemon_config(path: Path | None, plugins: PluginManager) -> Config:
    return loader.load(path, plugins.config_specs())
