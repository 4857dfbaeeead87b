"""The measured side of bench_files, in a process of its own so its peak RSS is the pull's alone:
``python -m tests.bench.files_child FOLDER STATE [pull|import CONFIG FILE]`` prints one JSON line."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import trio


def rss_mb() -> float:
    """This process's peak RSS. Not getrusage's ru_maxrss: Linux carries that over from the parent across fork and
    exec, so a child would report the benchmark runner's own peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def pull(folder: Path, state: Path, cursor: str | None) -> dict[str, object]:
    from halosync_files.settings import FilesSettings
    from halosync_files.source import FilesSource

    source = FilesSource(FilesSettings.from_table({"folder": str(folder), "settle_seconds": 0}), state)
    before = rss_mb()
    started = time.perf_counter()
    leads = rejected = 0
    async for page in source.pull(cursor):
        leads += len(page.leads)
        rejected += len(page.rejected)
        cursor = page.cursor
    seconds = time.perf_counter() - started
    await source.aclose()
    return {"leads": leads, "rejected": rejected, "seconds": seconds, "rss_before_mb": before,
            "peak_rss_mb": rss_mb(), "cursor": cursor}


def main() -> None:
    folder, state, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    if mode == "pull":
        cursor = sys.argv[4] if len(sys.argv) > 4 else None
        print(json.dumps(trio.run(pull, folder, state, cursor)))
        return
    from halosync.cli.main import main as halosync

    started = time.perf_counter()
    code = halosync(["--config", sys.argv[4], "import", "--json", sys.argv[5]])
    print(json.dumps({"code": code, "seconds": time.perf_counter() - started, "peak_rss_mb": rss_mb()}))


if __name__ == "__main__":
    main()
