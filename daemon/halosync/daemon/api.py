"""What the running daemon offers its components: narrow ports, each a Protocol that ``halosync.daemon.app.Daemon``
(the composition root) implements, so that no component imports the daemon itself.

    StateView            what a component reads: configuration, store, plugins, the effective state, the engine
    Lifecycle            stopping / request_stop / beat / reload
    ReloadRegistration   add_reload_hook / remove_reload_hook (run after a reload switched the configuration)
    HealthRecorder       record_success / record_failure / record_error / retry_in, and PluginHealth itself
    MethodRegistration   add_control_method (typed by the control package's ControlMethod)
    EngineAPI            the sync engine (NullEngine where a daemon runs without one)

A component names the ports it needs (e.g. ``engine.engine.EnginePorts``); the daemon hands itself over as those.
The sync engine implements ``EngineAPI``; front ends depend only on this Protocol and on plain dicts, so that each
can be tested against a real engine over a real store. Read-only inspection that also works without a running
daemon (dead letters, trace, integrity, queue figures) lives in ``halosync.inspect`` and reads the store directly.
Every dict shape here is part of CONTRACT.md where a
command prints it (``status --json``, ``queue``, ``integrity``...).
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from halosync.contracts import Rejected, Sink, SinkRecord, Source
from halosync.model import Lead

if TYPE_CHECKING:
    import trio

    from halosync.config.loader import Config
    from halosync.plugin.host import PluginHost
    from halosync.plugin.manager import PluginManager
    from halosync.store.gateway import Store

DaemonState = Literal["starting", "running", "paused", "stopping"]
ReloadHook = Callable[[], Awaitable[None]]
M_contra = TypeVar("M_contra", contravariant=True)


@dataclass
class PluginHealth:
    """One plugin's (or alert receiver's) health as ``status`` and ``/health`` show it; halosync.daemon.failures
    says how a failure changes it."""

    kind: str
    state: str = "starting"  # starting | connected | degraded | disconnected | failed
    last_success_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    failures: int = 0  # in a row, since the last success (or reload)
    error_type: str | None = None
    retry_at: float | None = None  # wall clock of the next try; None: now, or (waiting_for "reload") never
    waiting_for: str | None = None  # backoff | quota reset | reload
    _logged: tuple[str, str] | None = None  # (state, waiting_for) last logged
    _logged_at: float = 0.0

    def retry_in(self, now: float | None = None) -> float:
        """Seconds until the plugin may be tried again: 0 now, ``math.inf`` until a reload."""
        if self.waiting_for == "reload":
            return math.inf
        if self.retry_at is None:
            return 0.0
        return max(0.0, self.retry_at - (time.time() if now is None else now))

    @property
    def failing(self) -> bool:
        """Whether ``last_error`` is what happens now: no success since it (else it is history, kept to be read)."""
        return self.last_error_at is not None and (self.last_success_at is None or
                                                    self.last_error_at >= self.last_success_at)

    def shown(self) -> dict[str, Any]:
        """The failure fields of ``status`` and ``/health``."""
        return {"failures": self.failures, "error_type": self.error_type, "retry_at": self.retry_at,
                "waiting_for": self.waiting_for, "failing": self.failing}


@dataclass
class HealthCache:
    """What the health document caches between calls (a database ping, the webhook inbox's figures); one per
    daemon, shared by every front end that builds the document (``GET /health``, ``halosyncctl health``)."""

    db_state: str | None = None  # connected | degraded | disconnected
    db_checked_at: float = 0.0  # trio clock
    db_last_success_at: float | None = None
    db_last_error: str | None = None
    db_last_error_at: float | None = None
    db_latency_ms: float | None = None
    webhook_inbox: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class EngineAPI(Protocol):
    @property
    def installed(self) -> bool:
        """False for halosync.daemon.null_engine.NullEngine: no engine runs in this daemon."""
        ...

    # --- reading (cheap; served from the store and in-memory counters, never a provider call) ---
    async def totals(self) -> dict[str, int]:
        """{seen, created, updated, merged, skipped, failed} since the store was created."""
        ...

    async def queue(self) -> dict[str, Any]:
        """{pending, in_flight, dead, oldest_age_seconds, rate_per_minute} of the outbox."""
        ...

    async def sources_status(self) -> dict[str, dict[str, Any]]:
        """Per source: {last_sync_at, last_success_at, last_error, cursor_age_seconds, running}."""
        ...

    # --- control ---
    def pause(self) -> None:
        """Stop outbound writes and source polling (webhooks are still accepted and stored)."""
        ...

    def resume(self) -> None: ...

    @property
    def paused(self) -> bool: ...

    def set_concurrency(self, workers: int) -> None: ...

    def sync(self, source: str | None = None, *, full: bool = False,
             dry_run: bool = False) -> AsyncIterator[dict[str, Any]]:
        """Start a sync now and yield progress events ({"type": "progress"|"plan"|"done", ...}); the last event
        has type "done" and carries the summary (for a dry run: the plan of creates, updates with field diffs
        and merges)."""
        ...

    def wake(self) -> None:
        """Look for work now (after a dead-letter retry, a webhook delivery...); the store is the queue."""
        ...

    # --- intake from front ends (webhooks) ---
    async def stage(self, source: str, leads: Sequence[Lead], rejected: Sequence[Rejected] = ()) -> int:
        """Stage pushed leads durably (same path as a pulled page, without a cursor); returns how many."""
        ...

    async def apply_mirror_records(self, sink: str, records: Sequence[SinkRecord]) -> None:
        """Update the sink mirror (and links of deleted records) from a sink's own change notifications."""
        ...


class LeadershipView(Protocol):
    """Issue 18, halosync.ha: which sources this daemon polls among the daemons sharing its store."""

    @property
    def shared(self) -> bool:
        """True on PostgreSQL (several daemons may share the store), False on SQLite (this one polls all)."""
        ...

    @property
    def member_id(self) -> str: ...

    @property
    def changed(self) -> trio.Event:
        """Set (and replaced) whenever what this daemon polls changes."""
        ...

    def holds(self, source: str) -> bool:
        """Whether this daemon polls ``source`` now."""
        ...

    def fence(self, source: str) -> Callable[[], None] | None:
        """A check run inside a page's transaction: raises unless this daemon still holds the source's lease."""
        ...

    def holder_of(self, source: str) -> str | None:
        """The id of the daemon that polls ``source``, as last seen."""
        ...

    def describe(self) -> dict[str, Any]:
        """Role, the sources polled, the other daemons seen and the lease holders (``status.ha``, ``/health``)."""
        ...


class StateView(Protocol):
    """What a component reads of the running daemon. ``state`` is the effective state: "paused" while running
    with the engine paused (derived in one place, the daemon; the paused flag itself is the engine's)."""

    @property
    def config(self) -> Config: ...
    @property
    def store(self) -> Store: ...
    @property
    def plugins(self) -> PluginManager: ...
    @property
    def host(self) -> PluginHost: ...
    @property
    def sources(self) -> Mapping[str, Source]: ...
    @property
    def sinks(self) -> Mapping[str, Sink]: ...
    @property
    def engine(self) -> EngineAPI: ...
    @property
    def plugin_health(self) -> Mapping[str, PluginHealth]: ...
    @property
    def health_cache(self) -> HealthCache: ...
    @property
    def state(self) -> DaemonState: ...
    @property
    def version(self) -> str: ...
    @property
    def uptime_seconds(self) -> float: ...
    @property
    def once(self) -> bool: ...
    @property
    def ha(self) -> LeadershipView: ...


class Lifecycle(Protocol):
    @property
    def stopping(self) -> trio.Event:
        """Set when shutdown begins: stop intake, finish in-flight work."""
        ...

    def request_stop(self, exit_code: int | None = None) -> None:
        """Begin a graceful shutdown (SIGTERM, `run --once` finishing, a fatal component error)."""
        ...

    def beat(self) -> None:
        """Proof that the main loop turns (the systemd watchdog's pings depend on it)."""
        ...

    async def reload(self) -> bool:
        """Re-read the configuration; False (and the old one kept) when the new one is refused."""
        ...


class ReloadRegistration(Protocol):
    def add_reload_hook(self, hook: ReloadHook) -> None:
        """Run ``hook`` after each reload has switched to the new configuration."""
        ...

    def remove_reload_hook(self, hook: ReloadHook) -> None: ...


class HealthRecorder(Protocol):
    def record_success(self, plugin: str) -> None: ...

    def record_failure(self, plugin: str, exc: BaseException, doing: str) -> None:
        """A provider call failed: state, next try and (if news) a log line; see halosync.daemon.failures."""
        ...

    def record_error(self, plugin: str, error: str, *, state: str = "degraded") -> None:
        """A problem that is no provider call's (an alert receiver, a plugin's configuration): shown, not retried."""
        ...

    def retry_in(self, plugin: str) -> float:
        """Seconds until ``plugin`` may be tried again after a failure (0: now; infinite: after a reload)."""
        ...

    def track_health(self, name: str, health: PluginHealth) -> PluginHealth:
        """Show ``name``'s health from now on (kept if already shown); returns the one shown."""
        ...

    def forget_health(self, name: str) -> None: ...


class MethodRegistration(Protocol[M_contra]):
    """Control-socket methods a component adds; generic so that this module need not know the control package's
    ``ControlMethod`` (``MethodRegistration[ControlMethod]`` where it is used)."""

    def add_control_method(self, method: M_contra) -> None: ...
