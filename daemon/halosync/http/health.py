"""The health document: ``GET /health`` and ``halosyncctl health`` answer with the same ``health_document(daemon)``.

    {"status": "healthy" | "degraded" | "unhealthy", "version": "...", "state": "running", "uptime_seconds": 12.3,
     "services": {"apollo": "connected", "halopsa": "degraded", "database": "connected"},
     "checks": {"apollo": {"kind": "source", "state": "connected", "last_success_at": ..., "last_error": ...,
                           "failures": 0, "error_type": ..., "retry_at": ..., "waiting_for": ...,
                           "breaker": ..., "cursor_age_seconds": ..., "rate_limits": [...]},
                "database": {"state": "connected", "last_success_at": ..., "latency_ms": ..., "last_error": ...},
                "queue": {"pending": ..., "in_flight": ..., "dead": ..., "oldest_age_seconds": ...,
                          "rate_per_minute": ..., "failing": {"now": ..., "dead": ..., "retrying": ..., "before": ...}},
                "webhook_inbox": {"pending": ..., "failed": ..., "oldest_pending_age_seconds": ...}}}

Built from cached state only, never a provider call: the plugins' health as the engine last recorded it
(``daemon.plugin_health``), their cached quota windows, a database ping refreshed in the background (or inline when
stale, bounded by PROBE_TIMEOUT), and the engine's store-backed queue figures. Status rules: ``unhealthy`` (HTTP 503)
when the database is unreachable or every sink is disconnected, since nothing can then be synced; ``degraded`` when
any service is not connected or the daemon is not running (starting, paused, stopping); ``healthy`` otherwise.
"""

from __future__ import annotations

import time
from typing import Any

import trio

from halosync.contracts import Sink, Source
from halosync.daemon.api import StateView
from halosync.errors import StoreError

ServiceState = str  # connected | degraded | disconnected
PROBE_INTERVAL = 10.0  # seconds between background database pings
PROBE_STALE_AFTER = 30.0  # a ping older than this is redone inline (no background task: listener off)
PROBE_TIMEOUT = 5.0  # a ping waiting longer than this (store busy) counts as degraded
ENGINE_TIMEOUT = 5.0  # the engine's store-backed figures, bounded the same way

_PLUGIN_STATES: dict[str, ServiceState] = {
    "connected": "connected", "degraded": "degraded", "starting": "degraded",
    "disconnected": "disconnected", "failed": "disconnected",
}


async def ping_database(daemon: StateView) -> None:
    """One database round trip; the result is what the document shows until the next ping. On SQLite it takes
    the write lock for a moment, so a database locked by another process (longer than database.timeout) or on
    a read-only file system shows as disconnected."""
    cache = daemon.health_cache  # the daemon's, shared with the control socket's `health`
    started = time.perf_counter()
    with trio.move_on_after(PROBE_TIMEOUT) as scope:
        try:
            await daemon.store.run(_select_one, daemon.store)
        except StoreError as exc:
            cache.db_state, cache.db_last_error, cache.db_last_error_at = "disconnected", str(exc), time.time()
        else:
            cache.db_state, cache.db_last_success_at = "connected", time.time()
            cache.db_latency_ms = round((time.perf_counter() - started) * 1000, 2)
    if scope.cancelled_caught:
        cache.db_state, cache.db_last_error_at = "degraded", time.time()
        cache.db_last_error = f"no answer within {PROBE_TIMEOUT:g} s (the store is busy or locked)"
    cache.db_checked_at = trio.current_time()


def _select_one(store: Any) -> None:
    if store.sqlite:
        # SELECT 1 never touches the file; taking the write lock shows whether the daemon can actually commit.
        store.db.execute_sql("BEGIN IMMEDIATE")
        store.db.execute_sql("ROLLBACK")
    else:
        store.db.execute_sql("SELECT 1").fetchone()


async def keep_database_pinged(daemon: StateView) -> None:
    """Background task of the listener: keeps the cached ping fresh so /health never waits on the store."""
    while True:
        await ping_database(daemon)
        await trio.sleep(PROBE_INTERVAL)


async def health_document(daemon: StateView) -> dict[str, Any]:
    cache = daemon.health_cache
    if cache.db_state is None or trio.current_time() - cache.db_checked_at > PROBE_STALE_AFTER:
        await ping_database(daemon)
    services: dict[str, ServiceState] = {}
    checks: dict[str, Any] = {}
    for name, health in sorted(daemon.plugin_health.items()):
        services[name] = _PLUGIN_STATES.get(health.state, "degraded")
        checks[name] = {"kind": health.kind, "state": health.state, "last_success_at": health.last_success_at,
                        "last_error": health.last_error, "last_error_at": health.last_error_at, **health.shown(),
                        **health.detail}
    _add_rate_limits(daemon, checks)
    await _add_engine(daemon, checks)
    services["database"] = cache.db_state or "disconnected"
    checks["database"] = {"state": services["database"], "last_success_at": cache.db_last_success_at,
                          "last_error": cache.db_last_error, "last_error_at": cache.db_last_error_at,
                          "latency_ms": cache.db_latency_ms}
    if cache.webhook_inbox is not None:
        checks["webhook_inbox"] = dict(cache.webhook_inbox)
    checks.update(cache.extra)
    checks["ha"] = daemon.ha.describe()  # issue 18: role, other daemons seen, lease holders
    return {
        "status": overall_status(daemon, services),
        "version": daemon.version,
        "state": daemon.state,
        "paused": daemon.engine.paused,
        "uptime_seconds": round(daemon.uptime_seconds, 3),
        "services": services,
        "checks": checks,
    }


def overall_status(daemon: StateView, services: dict[str, ServiceState]) -> str:
    sinks = [name for name in daemon.sinks if name in services]
    if services.get("database") == "disconnected":
        return "unhealthy"
    if sinks and all(services[name] == "disconnected" for name in sinks):
        return "unhealthy"
    if any(state != "connected" for state in services.values()) or daemon.state != "running":
        return "degraded"
    return "healthy"


def http_status(document: dict[str, Any]) -> int:
    """200 when healthy or degraded, 503 when unhealthy."""
    return 503 if document["status"] == "unhealthy" else 200


async def health_answer(daemon: StateView) -> tuple[dict[str, Any], int]:
    """The document and its HTTP status, for front ends that need both."""
    document = await health_document(daemon)
    return document, http_status(document)


def _add_rate_limits(daemon: StateView, checks: dict[str, Any]) -> None:
    plugins: list[tuple[str, Source | Sink]] = [*daemon.sources.items(), *daemon.sinks.items()]
    for name, plugin in plugins:
        try:
            windows = plugin.rate_limits()  # cached by contract: never calls the provider
        except Exception as exc:  # a plugin bug must not take /health down; the check says what broke
            checks.setdefault(name, {})["rate_limits_error"] = f"{type(exc).__name__}: {exc}"
            continue
        checks.setdefault(name, {})["rate_limits"] = [
            {"window": w.window, "endpoint": w.endpoint, "limit": w.limit, "remaining": w.remaining,
             "reset_at": w.reset_at} for w in windows
        ]


async def _add_engine(daemon: StateView, checks: dict[str, Any]) -> None:
    engine = daemon.engine
    if not engine.installed:
        return
    with trio.move_on_after(ENGINE_TIMEOUT):
        try:
            checks["queue"] = await engine.queue()
            for source, status in (await engine.sources_status()).items():
                entry = checks.setdefault(source, {})
                for key in ("cursor_age_seconds", "last_sync_at", "running"):
                    if key in status:
                        entry[key] = status[key]
        except StoreError as exc:
            checks["queue"] = {"error": str(exc)}
