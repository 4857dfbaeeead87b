"""End to end: leads per second through `halosync run --once` with both fakes unthrottled, the daemon's peak RSS
while a large pull streams through (sampled through the run, to show it stays flat), and HaloPSA requests per lead.

The fakes run in their own processes (``python -m halosync_apollo.fake`` / ``halosync_halopsa.fake``) and the
daemon in a third, as in production; on a 2-core machine they share the cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from halosync.cli.commands.demo import write_config
from tests.e2e.processes import daemon_env, get_json, start_fake, stop

TITLE = "end to end (SQLite)"
Row = tuple[str, float | int | str, str, str]


def measure(leads: int, directory: Path, database_url: str = "") -> dict[str, Any]:
    """One `run --once` of ``leads`` generated contacts into an empty fake HaloPSA (and an empty store: SQLite in
    ``directory`` unless ``database_url`` names another)."""
    apollo, apollo_url = start_fake(["halosync_apollo.fake", "--port", "0", "--contacts", str(leads),
                                     "--seed", "42", "--unthrottled", "--api-key", "demo-key"])
    halo, halo_url = start_fake(["halosync_halopsa.fake", "--port", "0", "--rate", "100000000/300"])
    log = directory / "daemon.log"  # BENCH_LOG=debug shows each page, plan and write with its duration
    try:
        config = write_config(directory, apollo_url, halo_url, sync={"batch_size": 100, "concurrency": 2},
                              database_url=database_url,
                              halopsa={"requests_per_window": 100_000_000},
                              log_level=os.environ.get("BENCH_LOG", "warning"))
        started = time.perf_counter()
        with log.open("w") as stderr:
            daemon = subprocess.Popen([sys.executable, "-m", "halosync.cli.main", "--config", str(config), "run",
                                       "--once"], env=daemon_env(), stdout=subprocess.DEVNULL, stderr=stderr)
        process = psutil.Process(daemon.pid)
        samples: list[tuple[float, int]] = []
        cpu = 0.0
        while daemon.poll() is None:
            try:
                samples.append((time.perf_counter() - started, process.memory_info().rss))
                times = process.cpu_times()
                cpu = times.user + times.system
            except psutil.NoSuchProcess:
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        daemon.wait()
        if daemon.returncode != 0:
            raise RuntimeError(f"halosync run --once exited {daemon.returncode}: {log.read_text()[-2000:]}")
        stats = get_json(f"{halo_url}/_fake/stats")
    finally:
        for proc in (apollo, halo):
            stop(proc)
    api = sum(n for route, n in stats["by_route"].items() if " /api/" in route)
    rss = [r for _, r in samples if r] or [0]
    quarters = [rss[min(len(rss) - 1, len(rss) * q // 4)] for q in (1, 2, 3)] + [rss[-1]]
    return {"leads": leads, "seconds": elapsed, "peak_rss": max(rss), "quarters": quarters, "api_requests": api,
            "users": stats["records"]["users"], "daemon_cpu_seconds": cpu}


def run(quick: bool) -> list[Row]:
    small, large = (2_000, 20_000) if quick else (20_000, 200_000)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        speed = measure(small, Path(a))
        rows.append((f"leads/s, {small:,} leads (incl. ~1 s start-up)", speed["leads"] / speed["seconds"], "leads/s",
                     ">= 1,000"))
        rows.append(("HaloPSA requests per lead", speed["api_requests"] / speed["leads"], "requests", "< 0.05"))
        memory = measure(large, Path(b))
    mb = 1024 * 1024
    rows.append((f"peak RSS, {large:,} leads streamed", memory["peak_rss"] / mb, "MB", "<= 150"))
    rows.append(("RSS at 25/50/75/100 % of the run", " / ".join(f"{q / mb:.0f}" for q in memory["quarters"]), "MB",
                 "flat"))
    rows.append((f"leads/s, {large:,} leads", memory["leads"] / memory["seconds"], "leads/s", ">= 1,000"))
    rows.append((f"HaloPSA requests per lead, {large:,}", memory["api_requests"] / memory["leads"], "requests",
                 "< 0.05"))
    return rows
