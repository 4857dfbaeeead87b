"""Built-in control methods that only read: status, health, queue, rate limits, plugins, custom fields, trace,
dead-letter listing, and the protocol's own ``system.*``."""

from __future__ import annotations

import os
import platform
from typing import Any

import trio
from loguru import logger

from halosync.contracts import Sink, Source
from halosync.control.protocol import PROTOCOL_VERSION, ControlFailure
from halosync.control.registry import Call, ControlMethod
from halosync.daemon.api import StateView
from halosync.engine.figures import queue_figures
from halosync.http.health import health_document
from halosync.inspect.deadletters import LIST_LIMIT, list_dead_letters
from halosync.inspect.reads import read
from halosync.inspect.trace import trace


def plugin_states(daemon: StateView) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for info in daemon.plugins.info():
        out[info.name] = {"kind": ",".join(info.kinds) or "plugin", "state": "loaded", "version": info.version}
    for name, health in daemon.plugin_health.items():
        entry = out.setdefault(name, {"kind": health.kind})
        entry.update(kind=health.kind, state=health.state, last_success_at=health.last_success_at,
                     last_error=health.last_error, last_error_at=health.last_error_at, **health.shown())
    return out


async def status(call: Call) -> dict[str, Any]:
    """Live state, plus the store figures of a snapshot at most a couple of seconds old (``as_of``)."""
    daemon = call.daemon
    engine = daemon.engine
    figures = await call.status.get(daemon, call.nursery)
    return {
        "state": daemon.state,
        "version": daemon.version,
        "uptime_seconds": round(daemon.uptime_seconds, 3),
        "pid": os.getpid(),
        "paused": engine.paused,
        "engine": engine.installed,
        "store": daemon.store.shown_url,
        "config": str(daemon.config.path) if daemon.config.path else None,
        "queue": figures["queue"],
        "totals": figures["totals"],
        "plugins": plugin_states(daemon),
        "sources": figures["sources"],
        "retention": figures.get("retention"),  # issue 16: the last pruning pass, totals, when the next is due
        "as_of": figures["as_of"],
        "ha": daemon.ha.describe(),  # issue 18: this daemon's role, the other daemons seen, the lease holders
    }


async def health(call: Call) -> dict[str, Any]:
    return await health_document(call.daemon)  # the very document GET /health answers


async def queue(call: Call) -> dict[str, Any]:
    return await read(call.daemon.store, queue_figures)


async def rate_limits(call: Call) -> dict[str, Any]:
    windows: list[dict[str, Any]] = []
    daemon = call.daemon
    providers: list[Source | Sink] = [*daemon.sources.values(), *daemon.sinks.values()]
    for plugin in providers:
        try:
            observed = plugin.rate_limits()
        except Exception as exc:  # a plugin bug must not take the whole answer down; the log has the traceback
            logger.opt(exception=True).warning("{}.rate_limits() failed", plugin.name)
            windows.append({"provider": plugin.name, "error": f"{type(exc).__name__}: {exc}"})
            continue
        windows.extend({"provider": w.provider, "window": w.window, "endpoint": w.endpoint, "limit": w.limit,
                        "used": w.used, "remaining": w.remaining, "reset_at": w.reset_at,
                        "exhausted_at": w.exhausted_at, "basis": w.basis} for w in observed)
    return {"windows": windows}


async def plugins(call: Call) -> dict[str, Any]:
    states = plugin_states(call.daemon)
    listed = [{"name": i.name, "version": i.version, "distribution": i.distribution, "kinds": list(i.kinds),
               "hooks": list(i.hooks), "origin": i.origin, "state": states.get(i.name, {}).get("state", "loaded")}
              for i in call.daemon.plugins.info()]
    return {"plugins": listed}


async def custom_fields(call: Call) -> dict[str, Any]:
    """The sinks' own checks about custom fields (HaloPSA: configured fields exist, have the right type)."""
    daemon = call.daemon
    if not daemon.sinks:
        raise ControlFailure("unavailable", "no sink is enabled in this daemon; enable [plugins.halopsa]")
    timeout = 2 * float(daemon.config.get("sync.request_timeout", 30.0))
    results: list[dict[str, Any]] = []
    for name, sink in sorted(daemon.sinks.items()):
        try:
            with trio.fail_after(timeout):
                checks = await sink.checks()
        except trio.TooSlowError:
            raise ControlFailure("timeout", f"{name} did not answer its checks within {timeout:g} s") from None
        # The custom-field checks, and any failing check they depend on (no token: no field can be looked up).
        relevant = [c for c in checks if "custom" in c.name.lower() or c.status == "fail"]
        results.extend({"sink": name, "name": c.name, "status": c.status, "message": c.message, "hint": c.hint}
                       for c in relevant)
    return {"ok": all(r["status"] != "fail" for r in results), "checks": results}


async def trace_lead(call: Call) -> dict[str, Any]:
    query = call.str_param("query", required=True) or ""
    found = await read(call.daemon.store, trace, query)
    if not found["leads"]:
        raise ControlFailure("not_found", f"nothing in the store matches {query!r}; give an email address, a source "
                                          "id (123 or apollo:123) or a sink id (61 or halopsa:user:61)")
    return found


async def dlq_list(call: Call) -> dict[str, Any]:
    limit = call.int_param("limit", LIST_LIMIT, minimum=1, maximum=100_000) or LIST_LIMIT
    return await read(call.daemon.store, list_dead_letters, limit, call.str_param("stage"))


def methods_of(describe: Any) -> ControlMethod:
    async def system_methods(call: Call) -> dict[str, Any]:
        return {"methods": describe()}

    return ControlMethod("system.methods", system_methods, "the methods this daemon answers")


async def system_version(call: Call) -> dict[str, Any]:
    return {"daemon": call.daemon.version, "protocol": PROTOCOL_VERSION, "protocols": [PROTOCOL_VERSION],
            "python": platform.python_version(), "trio": trio.__version__}


READ_METHODS = (
    ControlMethod("status", status, "state, version, uptime, plugins, queue, totals, last sync per source"),
    ControlMethod("health", health, "the same document as GET /health"),
    ControlMethod("queue", queue, "outbox depth, in flight, oldest age, processing rate, dead letters"),
    ControlMethod("rate-limits", rate_limits, "per provider and window: limit, used, left, reset time"),
    ControlMethod("plugins", plugins, "loaded plugins: name, kinds, version, hooks, origin, state"),
    ControlMethod("custom-fields", custom_fields, "check the configured HaloPSA custom fields against the instance"),
    ControlMethod("trace", trace_lead, "lineage of one lead by email, source id or sink id"),
    ControlMethod("dlq.list", dlq_list, "dead letters, newest first"),
    ControlMethod("system.version", system_version, "daemon and protocol versions"),
)
