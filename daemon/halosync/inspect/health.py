"""The health document: what ``GET /health`` and ``halosyncctl health`` answer.

Built from cached state only: each plugin's last observed health (``daemon.plugin_health``, kept by the engine
and the plugins' callers) and one cheap store query; it never calls a provider, so a monitoring system polling
it cannot spend a provider's rate limit.

    {"status": "healthy"|"degraded"|"unhealthy", "version", "state", "uptime_seconds",
     "services": {"apollo": "connected", "halopsa": "degraded", "database": "connected"},
     "checks": {NAME: {"kind", "state", "last_success_at", "last_error", "last_error_at", ...detail}},
     "queue": {...queue figures...}}

Unhealthy (HTTP 503): the database does not answer, or a sink is disconnected or failed (nothing can be written).
Degraded (HTTP 200): anything else not connected, or the daemon is paused or still starting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio

from halosync.errors import HalosyncError
from halosync.inspect.figures import queue_figures

if TYPE_CHECKING:
    from halosync.daemon.app import Daemon

DATABASE_TIMEOUT = 5.0
_BROKEN = ("disconnected", "failed")


async def health_document(daemon: Daemon) -> tuple[dict[str, Any], int]:
    """The document and its HTTP status code (200 healthy or degraded, 503 unhealthy)."""
    services: dict[str, str] = {}
    checks: dict[str, dict[str, Any]] = {}
    for name, health in sorted(daemon.plugin_health.items()):
        services[name] = health.state
        checks[name] = {"kind": health.kind, "state": health.state, "last_success_at": health.last_success_at,
                        "last_error": health.last_error, "last_error_at": health.last_error_at, **health.detail}
    queue: dict[str, Any] | None = None
    try:
        with trio.fail_after(DATABASE_TIMEOUT):
            queue = await daemon.store.run(queue_figures)
        services["database"] = "connected"
        checks["database"] = {"kind": "store", "state": "connected", "url": daemon.store.shown_url}
    except (HalosyncError, trio.TooSlowError) as exc:
        services["database"] = "disconnected"
        checks["database"] = {"kind": "store", "state": "disconnected", "url": daemon.store.shown_url,
                              "last_error": str(exc) or f"no answer within {DATABASE_TIMEOUT:g} s"}
    sink_broken = any(c["state"] in _BROKEN for c in checks.values() if c.get("kind") == "sink")
    if services["database"] != "connected" or sink_broken:
        status = "unhealthy"
    elif any(state != "connected" for state in services.values()) or daemon.state != "running":
        status = "degraded"
    else:
        status = "healthy"
    document = {"status": status, "version": daemon.version, "state": daemon.state,
                "uptime_seconds": round(daemon.uptime_seconds, 3), "services": services, "checks": checks,
                "queue": queue}
    return document, 503 if status == "unhealthy" else 200
