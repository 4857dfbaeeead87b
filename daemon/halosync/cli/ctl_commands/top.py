"""``halosyncctl top [--interval SECONDS]``: a live, full-screen view of the running daemon, in the spirit of
``vector top``: per source and per sink its state, what it does (running, queue), the provider budget left in its
tightest window, its last error and when it is tried again; the totals with their rates per second (measured
between two refreshes) and the write rate per minute. Refreshed every second from the socket's ``status``,
``queue`` and ``rate-limits``; ``q`` or Ctrl-C leaves. When the daemon goes away the view says so and keeps
trying.

With a stdout that is not a terminal (a pipe, a file) it prints one snapshot and exits 0; ``--json`` prints that
snapshot as one JSON document (``status``, ``queue``, ``rate_limits``).
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.text import Text

from halosync.cli.ctl_commands import Session, add_command, age, shown, table, when
from halosync.errors import DaemonUnreachable

TOTALS_SHOWN = ("seen", "created", "updated", "merged", "review", "failed")
SNAPSHOT_WIDTH = 200  # columns of the one snapshot printed to a pipe (unless $COLUMNS says otherwise)


def register(sub: Any) -> None:
    p = add_command(sub, "top", "a live full-screen view of the daemon: per source and sink state, rates, queue, "
                    "budget left, errors",
                    "A live, full-screen view of the running daemon, refreshed every --interval seconds: per "
                    "source and sink its state, queue, provider budget left and last error; the totals with "
                    "their rates. q or Ctrl-C leaves. When stdout is not a terminal, prints one snapshot and "
                    "exits 0 (with --json, as one JSON document).")
    p.add_argument("--interval", metavar="SECONDS", type=float, default=1.0,
                   help="seconds between two refreshes (default 1)")
    p.set_defaults(handler=handle)


def fetch(session: Session) -> dict[str, Any]:
    """One snapshot: the three read methods the view is made of."""
    return {"status": session.call("status"), "queue": session.call("queue"),
            "rate_limits": session.call("rate-limits").get("windows", [])}


@dataclass
class Rates:
    """Per-second rates of the totals, from the last two snapshots (the first has none yet)."""

    previous: dict[str, int] | None = None
    at: float = 0.0
    per_second: dict[str, float] = field(default_factory=dict)

    def update(self, totals: dict[str, Any], now: float) -> None:
        current = {k: int(v) for k, v in totals.items() if isinstance(v, int)}
        if self.previous is not None and now > self.at:
            self.per_second = {k: max(0.0, (v - self.previous.get(k, v)) / (now - self.at))
                               for k, v in current.items()}
        self.previous, self.at = current, now


def _kinds(plugin: dict[str, Any]) -> set[str]:
    return set(str(plugin.get("kind") or "").split(","))


def _budget(provider: str, windows: list[dict[str, Any]]) -> str:
    """The tightest quota window of a provider: ``left/limit per window`` (and when it runs out, if forecast)."""
    mine = [w for w in windows if w.get("provider") == provider and isinstance(w.get("limit"), int) and w["limit"]
            and isinstance(w.get("remaining"), int)]
    if not mine:
        return "-"
    tightest = min(mine, key=lambda w: w["remaining"] / w["limit"])
    text = f"{tightest['remaining']:,}/{tightest['limit']:,} per {tightest.get('window') or '?'}"
    if tightest.get("exhausted_at"):
        text += f", out at {when(tightest['exhausted_at'])}"
    return text


def _next_try(plugin: dict[str, Any]) -> str:
    if plugin.get("waiting_for") == "reload":
        return "after reload"
    if plugin.get("retry_at"):
        return when(plugin["retry_at"])
    return "-"


def view(snapshot: dict[str, Any], rates: Rates, *, problem: str | None = None,
         interval: float | None = None) -> RenderableType:
    status, queue, windows = snapshot["status"], snapshot["queue"], snapshot["rate_limits"]
    plugins: dict[str, dict[str, Any]] = status.get("plugins") or {}
    sources: dict[str, dict[str, Any]] = status.get("sources") or {}
    by_sink: dict[str, dict[str, Any]] = queue.get("by_sink") or {}
    head = Text.assemble(("halosync top", "bold"), f"  {status.get('state')}  v{status.get('version')}  "
                         f"up {age(status.get('uptime_seconds'))}  pid {status.get('pid')}  {status.get('store')}")
    parts: list[RenderableType] = [head]
    if problem:
        parts.append(Text(problem, style="bold red"))
    source_names = sorted(set(sources) | {n for n, p in plugins.items() if "source" in _kinds(p)})
    parts.append(table("sources", ["source", "state", "running", "last sync", "cursor age", "budget left",
                                   "next try", "last error"],
                       [[n, (plugins.get(n) or {}).get("state"), (sources.get(n) or {}).get("running"),
                         when((sources.get(n) or {}).get("last_sync_at")),
                         age((sources.get(n) or {}).get("cursor_age_seconds")), _budget(n, windows),
                         _next_try(plugins.get(n) or {}),
                         (sources.get(n) or {}).get("last_error") or (plugins.get(n) or {}).get("last_error")]
                        for n in source_names]))
    sink_names = sorted(set(by_sink) | {n for n, p in plugins.items() if "sink" in _kinds(p)})
    parts.append(table("sinks", ["sink", "state", "pending", "in flight", "budget left", "next try", "last error"],
                       [[n, (plugins.get(n) or {}).get("state"), (by_sink.get(n) or {}).get("pending", 0),
                         (by_sink.get(n) or {}).get("in_flight", 0), _budget(n, windows),
                         _next_try(plugins.get(n) or {}), (plugins.get(n) or {}).get("last_error")]
                        for n in sink_names]))
    totals = status.get("totals") or {}
    parts.append(table("totals (per second since the last refresh)", ["", *TOTALS_SHOWN],
                       [["total", *(totals.get(k) for k in TOTALS_SHOWN)],
                        ["per s", *(f"{rates.per_second[k]:.1f}" if k in rates.per_second else "-"
                                    for k in TOTALS_SHOWN)]]))
    parts.append(table("queue", ["to match", "pending", "in flight", "dead letters", "oldest", "writes/min",
                                 "review", "webhooks waiting"],
                       [[queue.get("staged_pending"), queue.get("pending"), queue.get("in_flight"), queue.get("dead"),
                         age(queue.get("oldest_age_seconds")), queue.get("rate_per_minute"), queue.get("review"),
                         queue.get("webhooks_pending")]]))
    footer = f"figures as of {when(status.get('as_of'))}"
    if interval is not None:
        footer += f"; refreshed every {shown(interval)} s; q or Ctrl-C leaves"
    parts.append(Text(footer, style="dim"))
    return Group(*parts)


@contextlib.contextmanager
def _keys() -> Iterator[bool]:
    """Single key presses from the terminal (no Enter needed) for the length of the view; False without one."""
    if not sys.stdin.isatty():
        yield False
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield True
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _wait_for_quit(seconds: float, keys: bool) -> bool:
    """Wait ``seconds``; True when q was pressed meanwhile."""
    if not keys:
        time.sleep(seconds)
        return False
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([sys.stdin], [], [], left)
        if ready and os.read(sys.stdin.fileno(), 1) in (b"q", b"Q"):
            return True
    return False


def handle(session: Session) -> int:
    interval = max(0.1, float(session.args.interval))
    rates = Rates()
    snapshot = fetch(session)
    rates.update(snapshot["status"].get("totals") or {}, time.monotonic())
    if session.json:
        session.print_json(snapshot)
        return 0
    if not session.console.is_terminal:  # a pipe or a file: one snapshot, its lines whole (for grep), not cut at 80
        wide = session.console if os.environ.get("COLUMNS") else Console(highlight=False, width=SNAPSHOT_WIDTH)
        wide.print(view(snapshot, rates))
        return 0
    problem: str | None = None
    with _keys() as keys, Live(view(snapshot, rates, interval=interval), console=session.console, screen=True,
                               auto_refresh=False) as live:
        try:
            while not _wait_for_quit(interval, keys):
                try:
                    snapshot, problem = fetch(session), None
                    rates.update(snapshot["status"].get("totals") or {}, time.monotonic())
                except DaemonUnreachable as exc:  # keep the last figures up, say why they are old, try again
                    problem = f"{exc} (trying again every {shown(interval)} s)"
                live.update(view(snapshot, rates, problem=problem, interval=interval), refresh=True)
        except KeyboardInterrupt:
            pass
    return 0
