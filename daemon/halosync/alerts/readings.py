"""What the alert rules read: the daemon's cached state, sampled once per evaluation into a short history.

Everything here is already in memory or one cheap store query away (the engine's queue and totals); nothing calls
a provider. Counters (provider requests, lead outcomes) are kept as cumulative values so that a rule can take the
increase over its own window from two samples, as Prometheus's ``increase()`` would.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psutil
from loguru import logger

from halosync import metrics
from halosync.contracts import RateWindow, Sink, Source
from halosync.errors import HalosyncError

if TYPE_CHECKING:
    from halosync.daemon.api import StateView

# Per provider: cumulative request counts by status class, and cumulative latency buckets (upper bound, count).
RequestCounts = dict[str, dict[str, float]]
LatencyBuckets = dict[str, list[tuple[float, float]]]


@dataclass
class Snapshot:
    at: float  # epoch seconds (the alert clock)
    queue: dict[str, Any] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    rate_windows: list[RateWindow] = field(default_factory=list)
    requests: RequestCounts = field(default_factory=dict)
    latency: LatencyBuckets = field(default_factory=dict)
    memory_percent: float | None = None
    db_in_use: int | None = None
    db_pool: int | None = None  # None on SQLite: one writer is not a pool that can run out
    sync_interval: float = 300.0


class History:
    """Snapshots from the last ``keep`` seconds, oldest first: every one of the last ``dense`` seconds (the rules'
    windows), and one per ``coarse`` seconds before that (a day's baseline in a few hundred samples)."""

    def __init__(self, keep: float, dense: float | None = None, coarse: float = 300.0) -> None:
        self.keep = keep
        self.dense = keep if dense is None else dense
        self.coarse = coarse
        self._samples: deque[Snapshot] = deque()

    def add(self, snapshot: Snapshot) -> None:
        self._samples.append(snapshot)
        # Keep one sample older than the horizon, so that a window of exactly ``keep`` has a start point.
        while len(self._samples) > 2 and self._samples[1].at <= snapshot.at - self.keep:
            self._samples.popleft()
        dense_from = snapshot.at - self.dense
        if self._samples[0].at < dense_from:
            thinned: deque[Snapshot] = deque()
            for sample in self._samples:
                if sample.at >= dense_from or not thinned or sample.at - thinned[-1].at >= self.coarse:
                    thinned.append(sample)
            self._samples = thinned

    @property
    def latest(self) -> Snapshot | None:
        return self._samples[-1] if self._samples else None

    def at_or_before(self, when: float) -> Snapshot | None:
        """The newest sample taken at or before ``when``; the oldest one when history is shorter than that."""
        chosen = self._samples[0] if self._samples else None
        for sample in self._samples:
            if sample.at > when:
                break
            chosen = sample
        return chosen

    def __len__(self) -> int:
        return len(self._samples)


async def take_snapshot(daemon: StateView, now: float) -> Snapshot:
    """Read the daemon's cached state. A front end that fails (the store briefly unavailable) leaves its part
    empty: a rule without a value does not fire, and the next evaluation tries again."""
    snap = Snapshot(at=now, sync_interval=float(daemon.config.get("sync.interval") or 300.0))
    engine = daemon.engine  # a NullEngine answers empty figures: no rule on them fires
    try:
        snap.queue = dict(await engine.queue())
        snap.totals = dict(await engine.totals())
        snap.sources = dict(await engine.sources_status())
    except HalosyncError as exc:
        logger.warning("alerts: could not read the engine's state this time: {}", exc)
    plugins: list[Source | Sink] = [*daemon.sources.values(), *daemon.sinks.values()]
    for plugin in plugins:
        try:
            snap.rate_windows += plugin.rate_limits()
        except Exception as exc:  # a plugin's bug must not stop alerting; the log names it
            logger.warning("alerts: {}.rate_limits() failed: {}: {}", plugin.name, type(exc).__name__, exc)
    snap.requests, snap.latency = provider_counters()
    snap.memory_percent = float(psutil.virtual_memory().percent)
    if not daemon.store.sqlite:
        snap.db_in_use = int(daemon.store.limiter.borrowed_tokens)
        snap.db_pool = int(daemon.store.limiter.total_tokens)
    return snap


def provider_counters() -> tuple[RequestCounts, LatencyBuckets]:
    """Cumulative provider request counts and latency buckets from the metrics registry, summed over endpoints."""
    requests: RequestCounts = {}
    for family in metrics.PROVIDER_REQUESTS.collect():
        for sample in family.samples:
            if sample.name.endswith("_total"):
                by_class = requests.setdefault(sample.labels["provider"], {})
                status = sample.labels["status_class"]
                by_class[status] = by_class.get(status, 0.0) + sample.value
    buckets: dict[str, dict[float, float]] = {}
    for family in metrics.PROVIDER_LATENCY.collect():
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                per = buckets.setdefault(sample.labels["provider"], {})
                le = float(sample.labels["le"])
                per[le] = per.get(le, 0.0) + sample.value
    latency = {provider: sorted(per.items()) for provider, per in buckets.items()}
    return requests, latency
