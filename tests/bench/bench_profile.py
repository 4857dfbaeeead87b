"""What `halosyncctl profile cpu` costs the daemon it profiles: a `run --once` of N leads in process against both
fakes, without and with the sampler (100 samples a second of every thread) running through it, in alternating
rounds; and the sampler thread's own CPU time per second of sampling."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import trio

from halosync import log
from halosync.cli.commands.demo import DemoFakes
from halosync.profiling.cpu import CpuProfile, Sampler
from tests.e2e.rig import Rig

TITLE = "CPU profiler"
Row = tuple[str, float | int | str, str, str]


async def _run_once(leads: int, directory: Path) -> float:
    fakes = DemoFakes.create(leads, seed=42, halo_rate=100_000_000, duplicate_share=0.1)
    async with trio.open_nursery() as nursery:
        await fakes.serve(nursery)
        daemon = Rig(fakes, directory, f"sqlite:///{directory}/halosync.db", sync={"batch_size": 100}).daemon()
        started = time.perf_counter()
        with trio.fail_after(600):
            await daemon.serve()
        elapsed = time.perf_counter() - started
        nursery.cancel_scope.cancel()
    return elapsed


def _profiled(leads: int, directory: Path) -> tuple[float, CpuProfile]:
    sampler = Sampler(0.01)
    done: list[CpuProfile] = []
    thread = threading.Thread(target=lambda: done.append(sampler.run(3600.0)), daemon=True)
    thread.start()
    try:
        elapsed = trio.run(_run_once, leads, directory)
    finally:
        sampler.stop()
        thread.join()
    return elapsed, done[0]


def run(quick: bool) -> list[Row]:
    log.setup(level="warning")
    leads, rounds = (2_000, 2) if quick else (10_000, 3)
    plain: list[float] = []
    profiled: list[tuple[float, CpuProfile]] = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            plain.append(trio.run(_run_once, leads, Path(a)))
            profiled.append(_profiled(leads, Path(b)))
    best_plain = min(plain)
    best_profiled, profile = min(profiled, key=lambda p: p[0])
    return [
        (f"run --once of {leads:,} leads, not profiled (best of {rounds})", leads / best_plain, "leads/s", ""),
        (f"run --once of {leads:,} leads, profiled at 100 Hz (best of {rounds})", leads / best_profiled, "leads/s",
         ""),
        ("slowdown while profiled", 100 * (best_profiled - best_plain) / best_plain, "%", "< 5"),
        ("threads sampled / samples taken", f"{len(profile.document['profiles'])} / {profile.samples:,}", "", ""),
        ("sampler CPU per second of sampling", 1000 * profile.sampler_cpu_seconds / profile.seconds, "ms/s", "< 20"),
    ]
