"""``halosyncctl profile cpu|memory``: profile the running daemon without stopping it.

``cpu`` samples every thread for ``--seconds`` and writes a speedscope file (open it at https://www.speedscope.app
or with the offline ``speedscope`` viewer), printing the hottest functions. ``memory`` shows the lines holding the
most memory and those whose memory grew most over ``--seconds``; ``--output`` also writes it as JSON.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, TextIO

from halosync.cli.ctl_commands import Session, add_command, table
from halosync.errors import HalosyncError


def register(sub: Any) -> None:
    p = add_command(sub, "profile", "profile the running daemon: a CPU profile of every thread, or its memory")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    cpu = add_command(kinds, "cpu", "sample every thread's stack for a while; write a speedscope file",
                      "Samples every thread of the daemon for --seconds (the daemon keeps working) and writes a "
                      "speedscope JSON file: open it at https://www.speedscope.app or with `npx speedscope FILE`.")
    cpu.add_argument("--seconds", type=int, default=10, metavar="N", help="how long to sample (1-600, default 10)")
    cpu.add_argument("--interval-ms", type=int, default=10, metavar="MS",
                     help="time between samples (default 10: 100 a second)")
    cpu.add_argument("--output", metavar="FILE", help="where to write the profile (default: "
                     "halosync-cpu-YYYYmmdd-HHMMSS.speedscope.json here)")
    cpu.set_defaults(handler=handle_cpu)
    mem = add_command(kinds, "memory", "top allocations by line, and their growth over a while",
                      "Takes two tracemalloc snapshots --seconds apart while the daemon works: the lines holding the "
                      "most memory, and those whose memory grew most. Unless the daemon runs with "
                      "PYTHONTRACEMALLOC set, tracing starts with the measurement, so both cover only what was "
                      "allocated during it.")
    mem.add_argument("--seconds", type=int, default=10, metavar="N", help="how long to watch (0-600, default 10)")
    mem.add_argument("--top", type=int, default=25, metavar="N", help="lines to show (default 25)")
    mem.add_argument("--output", metavar="FILE", help="also write the measurement here as JSON")
    mem.set_defaults(handler=handle_memory)


def _open(path: Path) -> TextIO:
    """The output file, opened before the daemon is asked: a profile is not taken only to be lost."""
    try:
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise HalosyncError(f"cannot write {str(path)!r}: {exc.strerror or exc}; give --output a writable "
                            "place") from None


def _write(out: TextIO, document: Any) -> None:
    with out:
        json.dump(document, out, separators=(",", ":"))


def handle_cpu(session: Session) -> int:
    args = session.args
    output = Path(args.output or time.strftime("halosync-cpu-%Y%m%d-%H%M%S.speedscope.json"))
    out = _open(output)
    try:
        result = session.call("profile.cpu", {"seconds": args.seconds, "interval_ms": args.interval_ms},
                              wait_long=True)
    except BaseException:
        out.close()
        output.unlink(missing_ok=True)
        raise
    _write(out, result.pop("document"))
    result["output"] = str(output)
    if session.json:
        session.print_json(result)
        return 0
    session.console.print(f"{result['samples']} samples of {result['threads']} thread(s) over "
                          f"{result['seconds']:g} s written to {output} (open it at https://www.speedscope.app); "
                          f"sampling took {result.get('sampler_cpu_seconds', 0):g} s of CPU")
    session.console.print(table("hottest functions (wall clock: a waiting thread counts where it waits)",
                                ["self s", "total s", "function", "where"],
                                [[h["self_seconds"], h["total_seconds"], h["function"], f"{h['file']}:{h['line']}"]
                                 for h in result["hottest"][:15]]))
    return 0


def _size(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,} B"


def handle_memory(session: Session) -> int:
    args = session.args
    out = _open(Path(args.output)) if args.output else None
    try:
        result = session.call("profile.memory", {"seconds": args.seconds, "top": args.top}, wait_long=True)
    except BaseException:
        if out is not None:
            out.close()
            Path(args.output).unlink(missing_ok=True)
        raise
    if out is not None:
        _write(out, result)
        result["output"] = args.output
    if session.json:
        session.print_json(result)
        return 0
    scope = "since the daemon started" if result.get("traced_from_start") else "during the measurement"
    session.console.print(f"RSS {_size(result['rss_bytes'])}; traced {scope}: {_size(result['traced_bytes'])} "
                          f"(peak {_size(result['traced_peak_bytes'])}) over {result['seconds']:g} s")
    session.console.print(table("top allocations by line", ["size", "count", "where"],
                                [[_size(r["size_bytes"]), r["count"], f"{r['file']}:{r['line']}"]
                                 for r in result["top"]]))
    session.console.print(table(f"growth over {result['seconds']:g} s", ["grew", "count", "now", "where"],
                                [[_size(r["size_diff_bytes"]), f"{r['count_diff']:+,}", _size(r["size_bytes"]),
                                  f"{r['file']}:{r['line']}"] for r in result["growth"]]))
    if args.output:
        session.console.print(f"written to {args.output}")
    return 0
