"""Control socket latency: `halosyncctl status` round trips (connect, request, answer, close) from a separate
process, with the daemon idle, then while a full sync runs at full speed: the real engine with the Apollo and
HaloPSA fakes unthrottled, each fake in a process of its own (as the real providers are elsewhere), over real
sockets. Target: p99 <= 50 ms under load.

The client runs in its own interpreter, as halosyncctl does; its interpreter start-up is not part of the figure
(a round trip is what the socket costs). A second, identical sync with nobody asking shows what the status calls
cost the sync."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import trio

from halosync import log
from halosync.cli.commands.demo import DEMO_KEY, demo_plugins, load_config, write_config
from halosync.control.server import ControlComponent
from halosync.daemon.app import Daemon
from halosync.engine.component import EngineComponent

TITLE = "control socket"
Row = tuple[str, float | int | str, str, str]

CLIENT = """
import json, sys, time
from pathlib import Path
from halosync.control.client import ControlClient, SocketLocation
where, seconds, pause = SocketLocation(Path(sys.argv[1]), "bench"), float(sys.argv[2]), float(sys.argv[3])
stop = Path(sys.argv[5])  # the sync has ended when this file exists
samples, deadline = [], time.monotonic() + seconds
while time.monotonic() < deadline and not stop.exists():
    started = time.perf_counter()
    with ControlClient(where) as client:
        client.call(sys.argv[4])
    samples.append(time.perf_counter() - started)
    time.sleep(pause)
print(json.dumps(samples))
"""


async def _latencies(socket: Path, seconds: float, *, method: str = "status", pause: float = 0.02,
                     stop: Path = Path("/nonexistent")) -> list[float]:
    """Round trips of ``method`` from another process for ``seconds`` (or until ``stop`` exists)."""
    done = await trio.run_process([sys.executable, "-c", CLIENT, str(socket), str(seconds), str(pause), method,
                                   str(stop)], capture_stdout=True, capture_stderr=True)
    samples: list[float] = json.loads(done.stdout)
    return samples


async def _fake(nursery: trio.Nursery, *argv: str) -> str:
    """Start a fake in its own process; returns its base URL (the first line it prints)."""

    async def run(task_status: trio.TaskStatus[trio.Process] = trio.TASK_STATUS_IGNORED) -> None:
        await trio.run_process([sys.executable, "-m", *argv], stdout=subprocess.PIPE, check=False,
                               task_status=task_status)

    process: trio.Process = await nursery.start(run)
    assert process.stdout is not None
    line = b""
    while not line.endswith(b"\n"):
        line += await process.stdout.receive_some(1)
    return line.decode().strip()


@asynccontextmanager
async def _daemon(leads: int) -> AsyncIterator[tuple[Daemon, Path]]:
    """A daemon whose first poll found nothing, with ``leads`` new contacts waiting in Apollo."""
    async with trio.open_nursery() as nursery:
        apollo = await _fake(nursery, "halosync_apollo.fake", "--unthrottled", "--api-key", DEMO_KEY)
        halo = await _fake(nursery, "halosync_halopsa.fake", "--rate", "1000000000/300")
        with tempfile.TemporaryDirectory(prefix="hsbench-", dir="/tmp") as tmp:
            plugins = demo_plugins()
            # After its first poll at start, the scheduler waits an hour: the syncs measured are the bench's own.
            path = write_config(Path(tmp), apollo, halo, log_level="error", sync={"interval": 3600, "concurrency": 4})
            config = load_config(path, plugins)
            log.setup(config)
            daemon = Daemon(config, plugins, components=[EngineComponent(), ControlComponent()])
            await nursery.start(daemon.serve)
            engine: Any = daemon.engine
            for _ in range(600):  # the scheduler's first poll, at start, must be over
                if (await engine.sources_status())["apollo"]["last_success_at"]:
                    break
                await trio.sleep(0.05)
            if leads:
                async with httpx.AsyncClient() as client:
                    answer = await client.post(f"{apollo}/__admin/generate", timeout=120,
                                               json={"count": leads, "seed": 3, "days": max(5, leads // 20_000)})
                    answer.raise_for_status()
            try:
                yield daemon, Path(config.get("daemon.control_socket"))
            finally:
                daemon.request_stop()
        nursery.cancel_scope.cancel()


async def _timed_sync(engine: Any) -> tuple[float, float]:
    """Run a full sync to its end; returns (seconds, contacts staged per second)."""
    started = time.perf_counter()
    last: dict[str, Any] = {}
    async for event in engine.sync(full=True):
        last = event
    elapsed = time.perf_counter() - started
    staged = sum(s.get("staged", 0) for s in last.get("sources", []))
    return elapsed, float(staged) / elapsed


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


async def _measure(leads: int, idle_seconds: float) -> list[Row]:
    async with _daemon(0) as (daemon, socket):
        idle = await _latencies(socket, idle_seconds)
    async with _daemon(leads) as (daemon, socket):
        stop = Path(tempfile.mkdtemp(prefix="hsbench-")) / "sync-ended"
        busy: list[float] = []
        trivial: list[float] = []

        async def status_calls() -> None:
            busy.extend(await _latencies(socket, 900, stop=stop))

        async def trivial_calls() -> None:
            trivial.extend(await _latencies(socket, 900, method="system.version", stop=stop))

        async with trio.open_nursery() as load:
            load.start_soon(status_calls)
            load.start_soon(trivial_calls)
            await trio.sleep(0.5)  # both clients' interpreters are up before the sync begins
            seconds, asked = await _timed_sync(daemon.engine)
            stop.touch()
        stop.unlink()
        stop.parent.rmdir()
    async with _daemon(leads) as (daemon, socket):
        _, alone = await _timed_sync(daemon.engine)
    return [
        ("status p50, daemon idle", round(_percentile(idle, 0.50), 2), "ms", ""),
        ("status p99, daemon idle", round(_percentile(idle, 0.99), 2), "ms", "<= 50"),
        (f"status p50 during a full sync of {leads:,} ({seconds:.0f} s, {len(busy)} calls)",
         round(_percentile(busy, 0.50), 2), "ms", ""),
        ("status p99 during the sync", round(_percentile(busy, 0.99), 2), "ms", "<= 50"),
        ("status max during the sync", round(max(busy) * 1000, 2), "ms", ""),
        ("status mean during the sync", round(statistics.fmean(busy) * 1000, 2), "ms", ""),
        ("system.version p99 during the sync (event loop only)", round(_percentile(trivial, 0.99), 2), "ms", ""),
        ("contacts staged/s meanwhile", round(asked), "contacts/s", ""),
        ("contacts staged/s, the same sync with nobody asking", round(alone), "contacts/s", ""),
    ]


def run(quick: bool) -> list[Row]:
    return trio.run(_measure, 2_000 if quick else 10_000, 2.0 if quick else 5.0)
