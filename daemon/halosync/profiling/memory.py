"""The top memory allocations by line and their growth, with ``tracemalloc``.

``measure(seconds)`` takes a snapshot, waits ``seconds`` while the daemon works, takes another, and reports the
lines that hold the most memory and the lines whose memory grew most in between. Tracing costs memory and time
(every allocation records its line), so when the daemon was not tracing already it traces only for the
measurement: what it shows is then what was allocated since the measurement began (the growth), plus what the
daemon's process holds in all (RSS). Set ``PYTHONTRACEMALLOC=10`` in the daemon's environment to trace from the
start, and the top allocations cover everything still alive.
"""

from __future__ import annotations

import os
import threading
import time
import tracemalloc
from typing import Any

import psutil

FRAMES = 10  # frames kept per allocation when tracing starts here (the top line is what is grouped on)
_lock = threading.Lock()


def _line(stat: tracemalloc.Statistic | tracemalloc.StatisticDiff) -> dict[str, Any]:
    frame = stat.traceback[0]
    return {"file": frame.filename, "line": frame.lineno, "size_bytes": stat.size, "count": stat.count}


def _ours(snapshot: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
    return snapshot.filter_traces((tracemalloc.Filter(False, tracemalloc.__file__),
                                   tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
                                   tracemalloc.Filter(False, "<unknown>")))


def measure(seconds: float, top: int = 25, stop: threading.Event | None = None) -> dict[str, Any]:
    """Blocking (run it in a thread): two snapshots ``seconds`` apart; ``stop`` ends the wait early."""
    if not _lock.acquire(blocking=False):
        raise RuntimeError("a memory profile is already being taken")
    try:
        started_here = not tracemalloc.is_tracing()
        if started_here:
            tracemalloc.start(FRAMES)
        try:
            began = time.time()
            first = _ours(tracemalloc.take_snapshot())
            (stop or threading.Event()).wait(seconds)
            second = _ours(tracemalloc.take_snapshot())
            current, peak = tracemalloc.get_traced_memory()
        finally:
            if started_here:
                tracemalloc.stop()
        growth = [d for d in second.compare_to(first, "lineno") if d.size_diff > 0][:top]
        return {
            "pid": os.getpid(), "started_at": began, "seconds": round(time.time() - began, 3),
            "traced_from_start": not started_here, "rss_bytes": psutil.Process().memory_info().rss,
            "traced_bytes": current, "traced_peak_bytes": peak,
            "top": [_line(s) for s in second.statistics("lineno")[:top]],
            "growth": [{**_line(d), "size_diff_bytes": d.size_diff, "count_diff": d.count_diff} for d in growth],
        }
    finally:
        _lock.release()
