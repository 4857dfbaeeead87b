"""``profile.cpu`` and ``profile.memory``: profile the running daemon without stopping it (halosync.profiling).

Both run in a worker thread while the daemon carries on, one of each kind at a time, and are audited (who
profiled the daemon is worth knowing: a profile shows the code's paths, and costs a little while it runs). The
answer carries the profile; ``halosyncctl profile`` writes it to a file the operator opens.
"""

from __future__ import annotations

import threading
from typing import Any

import trio
from loguru import logger

from halosync.control.protocol import ControlFailure
from halosync.control.registry import Call, ControlMethod
from halosync.profiling import memory
from halosync.profiling.cpu import Sampler

_running: set[str] = set()


def _claim(kind: str) -> None:
    if kind in _running:
        raise ControlFailure("busy", f"a {kind} profile is being taken already; wait for it to finish")
    _running.add(kind)


async def profile_cpu(call: Call) -> dict[str, Any]:
    seconds = call.int_param("seconds", 10, minimum=1, maximum=600) or 10
    interval_ms = call.int_param("interval_ms", 10, minimum=1, maximum=1000) or 10
    _claim("cpu")
    sampler = Sampler(interval_ms / 1000)
    try:
        logger.info("profiling CPU for {} s ({} samples a second), at the request of {}", seconds,
                    1000 // interval_ms, call.peer)
        profile = await trio.to_thread.run_sync(sampler.run, float(seconds), abandon_on_cancel=True)
    finally:
        sampler.stop()  # an abandoned sampler (the daemon stopping) ends at its next look
        _running.discard("cpu")
    return {"format": "speedscope", "seconds": round(profile.seconds, 3), "samples": profile.samples,
            "threads": len(profile.document["profiles"]), "sampler_cpu_seconds": profile.sampler_cpu_seconds,
            "hottest": profile.hottest, "document": profile.document}


async def profile_memory(call: Call) -> dict[str, Any]:
    seconds = call.int_param("seconds", 10, minimum=0, maximum=600)
    top = call.int_param("top", 25, minimum=1, maximum=500) or 25
    _claim("memory")
    stop = threading.Event()
    try:
        logger.info("profiling memory for {} s, at the request of {}", seconds, call.peer)
        return await trio.to_thread.run_sync(memory.measure, float(seconds or 0), top, stop, abandon_on_cancel=True)
    finally:
        stop.set()
        _running.discard("memory")


PROFILE_METHODS = (
    ControlMethod("profile.cpu", profile_cpu, "a sampling profile of every thread, speedscope JSON (params: "
                  "seconds, interval_ms)", mutating=True),
    ControlMethod("profile.memory", profile_memory, "top allocations by line and their growth over a while "
                  "(params: seconds, top)", mutating=True),
)
