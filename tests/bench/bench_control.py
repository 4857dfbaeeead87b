"""Control socket latency: `halosyncctl status` round trips (connect, request, answer, close) from a separate
process, first with the daemon idle, then while a full sync runs at full speed (the real engine with the Apollo
and HaloPSA fakes unthrottled, over real sockets). Target: p99 <= 50 ms under load.

The client runs in its own interpreter, as halosyncctl does, so it does not compete with the daemon for the GIL;
its interpreter start-up is not part of the figure (a round trip is what the socket costs)."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

from halosync import log
from halosync.cli.commands.demo import DemoFakes, demo_plugins, load_config, write_config
from halosync.control.server import ControlComponent
from halosync.daemon.app import Daemon
from halosync.engine.component import EngineComponent
from halosync_apollo.fake import GeneratorSpec

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


async def _status_latencies(socket: Path, seconds: float, *, pause: float = 0.02, method: str = "status",
                            stop: Path = Path("/nonexistent")) -> list[float]:
    """Round trips of ``method`` from another process for ``seconds`` (or until ``stop`` exists)."""
    done = await trio.run_process([sys.executable, "-c", CLIENT, str(socket), str(seconds), str(pause), method,
                                   str(stop)],
                                  capture_stdout=True, capture_stderr=True)
    samples: list[float] = json.loads(done.stdout)
    return samples


async def _timed_sync(engine: Any) -> float:
    """Run a full sync to its end; returns contacts pulled and staged (or found unchanged) per second."""
    started = time.perf_counter()
    last: dict[str, Any] = {}
    async for event in engine.sync(full=True):
        last = event
    handled = sum(s.get("staged", 0) + s.get("unchanged", 0) for s in last.get("sources", []))
    return float(handled) / (time.perf_counter() - started)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


async def _measure(leads: int, idle_seconds: float) -> list[Row]:
    fakes = DemoFakes.create(0, seed=1, halo_rate=1_000_000_000)
    async with trio.open_nursery() as nursery:
        await fakes.serve(nursery)
        with tempfile.TemporaryDirectory(prefix="hsbench-", dir="/tmp") as tmp:
            plugins = demo_plugins()
            path = write_config(Path(tmp), fakes.apollo_url, fakes.halo_url, log_level="error",
                                sync={"interval": 3600, "concurrency": 4})
            config = load_config(path, plugins)
            log.setup(config)
            daemon = Daemon(config, plugins, components=[EngineComponent(), ControlComponent()])
            await nursery.start(daemon.serve)
            socket = Path(config.get("daemon.control_socket"))
            idle = await _status_latencies(socket, idle_seconds)

            assert daemon.engine is not None
            engine: Any = daemon.engine
            fakes.apollo.generate(GeneratorSpec(count=leads, seed=3, days=max(5, leads // 20_000)))
            alone = await _timed_sync(engine)  # the same work without anyone asking, for comparison
            fakes.apollo.generate(GeneratorSpec(count=leads, seed=4, days=max(5, leads // 20_000)))
            busy: list[float] = []
            trivial: list[float] = []

            stop = Path(tmp) / "sync-ended"

            async def measure_while_busy() -> None:
                busy.extend(await _status_latencies(socket, 600, stop=stop))

            async def trivial_while_busy() -> None:
                trivial.extend(await _status_latencies(socket, 600, method="system.version", stop=stop))

            async with trio.open_nursery() as load:
                load.start_soon(measure_while_busy)
                load.start_soon(trivial_while_busy)
                await trio.sleep(0.5)  # both clients' interpreters are up before the sync begins
                asked = await _timed_sync(engine)
                stop.touch()
            daemon.request_stop()
        nursery.cancel_scope.cancel()
    return [
        ("status p50, daemon idle", round(_percentile(idle, 0.50), 2), "ms", ""),
        ("status p99, daemon idle", round(_percentile(idle, 0.99), 2), "ms", "<= 50"),
        (f"status p50 during a full sync ({len(busy)} calls)", round(_percentile(busy, 0.50), 2), "ms", ""),
        ("status p99 during a full sync", round(_percentile(busy, 0.99), 2), "ms", "<= 50"),
        ("status max during a full sync", round(max(busy) * 1000, 2), "ms", ""),
        ("status mean during a full sync", round(statistics.fmean(busy) * 1000, 2), "ms", ""),
        ("system.version p99 during a full sync (no store access)", round(_percentile(trivial, 0.99), 2), "ms", ""),
        ("contacts synced/s meanwhile (sync at full speed)", round(asked), "contacts/s", ""),
        ("contacts synced/s, a sync without status calls", round(alone), "contacts/s", ""),
    ]


def run(quick: bool) -> list[Row]:
    return trio.run(_measure, 2_000 if quick else 10_000, 2.0 if quick else 5.0)
