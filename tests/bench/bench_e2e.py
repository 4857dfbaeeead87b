"""End to end: leads per second through `halosync run --once` with both fakes unthrottled, the daemon's peak RSS
while a large pull streams through (sampled through the run, to show it stays flat), and HaloPSA requests per lead.

The fakes run in their own processes (``python -m halosync_apollo.fake`` / ``halosync_halopsa.fake``) and the
daemon in a third, as in production; on a 2-core machine they share the cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

from halosync.cli.commands.demo import write_config

TITLE = "end to end (SQLite)"
Row = tuple[str, float | int | str, str, str]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("HALOSYNC_DISABLE_PLUGIN_AUTOLOAD", None)
    return env


def _fake(args: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", *args], stdout=subprocess.PIPE, text=True, env=_env())
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as answer:
        return json.load(answer)


def measure(leads: int, directory: Path) -> dict[str, Any]:
    """One `run --once` of ``leads`` generated contacts into an empty fake HaloPSA."""
    apollo, apollo_url = _fake(["halosync_apollo.fake", "--port", "0", "--contacts", str(leads), "--seed", "42",
                                "--unthrottled", "--api-key", "demo-key"])
    halo, halo_url = _fake(["halosync_halopsa.fake", "--port", "0", "--rate", "100000000/300"])
    try:
        config = write_config(directory, apollo_url, halo_url, sync={"batch_size": 100, "concurrency": 2},
                              halopsa={"requests_per_window": 100_000_000}, log_level=os.environ.get("BENCH_LOG", "warning"))
        started = time.perf_counter()
        daemon = subprocess.Popen([sys.executable, "-m", "halosync.cli.main", "--config", str(config), "run",
                                   "--once"], env=_env(), stdout=subprocess.DEVNULL, stderr=open(directory / "daemon.log", "w"))
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
        stderr = (directory / "daemon.log").read_text()
        if daemon.returncode != 0:
            raise RuntimeError(f"halosync run --once exited {daemon.returncode}: {stderr[-2000:]}")
        stats = _get(f"{halo_url}/_fake/stats")
    finally:
        for proc in (apollo, halo):
            proc.terminate()
            proc.wait(timeout=30)
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
