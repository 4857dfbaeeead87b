"""Built-in control methods that change something (each call is audited): pause, resume, concurrency, sync,
dead-letter retry and drop, integrity with repair, reload."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import trio
from loguru import logger

from halosync.config import loader
from halosync.control.protocol import ControlFailure
from halosync.control.registry import Call, ControlMethod
from halosync.daemon.api import EngineAPI
from halosync.errors import ConfigError, HalosyncError
from halosync.inspect.deadletters import drop_dead_letters, retry_dead_letters
from halosync.inspect.integrity import STUCK_AFTER_SECONDS, run_checks

MAX_WORKERS = 64
SYNC_EVENT_BUFFER = 256


def require_engine(call: Call) -> EngineAPI:
    if not call.daemon.engine.installed:
        raise ControlFailure("unavailable", f"{call.method}: the sync engine is not part of this running daemon "
                                            "(not installed, or it failed to start: see the daemon's log)")
    return call.daemon.engine


async def pause(call: Call) -> dict[str, Any]:
    require_engine(call).pause()  # the daemon's state follows the engine's paused flag
    logger.warning("outbound writes and source polling paused by {}", call.peer)
    return {"state": call.daemon.state, "paused": True}


async def resume(call: Call) -> dict[str, Any]:
    require_engine(call).resume()
    logger.info("outbound writes and source polling resumed by {}", call.peer)
    return {"state": call.daemon.state, "paused": False}


async def concurrency(call: Call) -> dict[str, Any]:
    workers = call.int_param("workers", required=True, minimum=1, maximum=MAX_WORKERS)
    assert workers is not None
    require_engine(call).set_concurrency(workers)
    return {"workers": workers}


def _ids(call: Call, name: str = "ids") -> list[int]:
    value = call.params.get(name)
    if not isinstance(value, list) or not value or not all(isinstance(i, int) and not isinstance(i, bool)
                                                           for i in value):
        raise ControlFailure("invalid_params", f"{call.method}: {name} must be a non-empty list of dead-letter ids")
    return value


async def dlq_retry(call: Call) -> dict[str, Any]:
    ids = None if call.bool_param("all") else _ids(call)
    outcome: dict[str, Any] = await call.daemon.store.transaction(retry_dead_letters, ids)
    if outcome["retried"]:
        call.daemon.engine.wake()
    return outcome


async def dlq_drop(call: Call) -> dict[str, Any]:
    outcome: dict[str, Any] = await call.daemon.store.transaction(drop_dead_letters, _ids(call))
    return outcome


async def integrity(call: Call) -> dict[str, Any]:
    daemon = call.daemon
    repair = call.bool_param("repair")
    timeout = float(daemon.config.get("sync.request_timeout", 30.0))
    report = await run_checks(daemon.store, daemon.sinks, repair=repair, fetch_timeout=timeout,
                              stuck_after=max(STUCK_AFTER_SECONDS, 10 * timeout))
    if repair:
        daemon.engine.wake()
    return report


async def reload(call: Call) -> dict[str, Any]:
    daemon = call.daemon
    path = daemon.config.path
    try:  # validate first, so the caller hears exactly what is wrong (the daemon's reload only logs it)
        loader.load(path, daemon.plugins.config_specs())
    except ConfigError as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise ControlFailure("config_invalid", f"{problems} (the running configuration is kept)") from None
    if not await daemon.reload():
        raise ControlFailure("config_invalid", "the new configuration was refused; the running one is kept "
                                               "(the daemon's log says why)")
    return {"reloaded": True, "config": str(path) if path else None}


async def sync(call: Call) -> dict[str, Any]:
    """Start a sync. Without follow or wait it runs in the background and this returns at once; with them the
    events are forwarded (follow) and the final summary returned. The sync itself runs in the server's nursery,
    so a client that disconnects mid-way does not cancel it."""
    daemon = call.daemon
    engine = require_engine(call)
    source = call.str_param("source")
    if source is not None and source not in daemon.sources:
        known = ", ".join(sorted(daemon.sources)) or "none"
        raise ControlFailure("not_found", f"no enabled source {source!r} (enabled: {known})")
    full, dry_run = call.bool_param("full"), call.bool_param("dry_run")
    follow, wait = call.bool_param("follow"), call.bool_param("wait")
    if engine.paused and not dry_run:
        logger.info("sync requested by {} while paused: the pull stages leads, nothing is written until resume",
                    call.peer)
    send, receive = trio.open_memory_channel[dict[str, Any]](SYNC_EVENT_BUFFER)
    outcome: dict[str, Any] = {}

    async def run_sync() -> None:
        async with send:
            try:
                async for event in engine.sync(source, full=full, dry_run=dry_run):
                    outcome["last"] = event
                    # A slow or departed follower misses progress lines; the summary is kept aside.
                    with contextlib.suppress(trio.WouldBlock, trio.BrokenResourceError):
                        send.send_nowait(event)
            except HalosyncError as exc:
                outcome["error"] = str(exc)
                logger.error("sync requested by {} failed: {}", call.peer, exc)
            except Exception as exc:  # the sync runs in the server's nursery: it must not take the socket down
                outcome["error"] = f"{type(exc).__name__}: {exc}"
                logger.opt(exception=True).error("sync requested by {} crashed", call.peer)

    call.nursery.start_soon(run_sync)
    # Paused: the pull stages leads, nothing is written until resume; the answer says so (issue 15).
    plan = {"source": source, "full": full, "dry_run": dry_run, "paused": engine.paused}
    if not (follow or wait):
        await receive.aclose()
        return {"started": True, **plan}
    async with receive:
        async for event in receive:
            if follow:
                await call.emit(event)
    if "error" in outcome:
        raise ControlFailure("failed", f"sync failed: {outcome['error']}")
    last = outcome.get("last") or {}
    return {"started": True, **plan, "summary": last}


def _sync_writes(params: Mapping[str, Any]) -> bool:
    return not params.get("dry_run")


def _repairs(params: Mapping[str, Any]) -> bool:
    return bool(params.get("repair"))


WRITE_METHODS = (
    ControlMethod("pause", pause, "stop all outbound writes and source polling (webhooks are still stored)",
                  mutating=True),
    ControlMethod("resume", resume, "restart outbound writes and source polling", mutating=True),
    ControlMethod("concurrency", concurrency, "change the sink worker count (params: workers)", mutating=True),
    ControlMethod("sync", sync, "start a sync now (params: source, full, dry_run, wait, follow)",
                  mutating=_sync_writes, streaming=True),
    ControlMethod("dlq.retry", dlq_retry, "send dead letters back through the pipeline (params: ids or all)",
                  mutating=True),
    ControlMethod("dlq.drop", dlq_drop, "forget dead letters (params: ids)", mutating=True),
    ControlMethod("integrity", integrity, "data integrity checks (params: repair)", mutating=_repairs),
    ControlMethod("reload", reload, "re-read the configuration (same as SIGHUP)", mutating=True),
)
