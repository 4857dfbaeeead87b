"""What every ``halosyncctl`` command shares: the session (where the daemon is, how to call it), JSON or human
output, and small renderers for rich tables.

A command module defines ``register(sub)``; it adds its parser with ``add_command`` and sets ``handler`` to a
function ``(Session) -> int`` (the exit code).

``--quiet`` (``Session.quiet``): no warnings, progress or timings on stderr, and the acknowledgement of a command
that only changes something (``pause``, ``resume``, ``reload``...: ``ACKNOWLEDGED``) is left out; the exit code
says it. ``--verbose`` (``Session.verbose``): where the socket came from and each call's round trip on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from halosync.cli.conventions import verbosity
from halosync.control.client import ControlClient, OnEvent, SocketLocation, resolve_socket

# --json is accepted both before the command and after it (`halosyncctl --json status`, `halosyncctl status --json`).
COMMON = argparse.ArgumentParser(add_help=False)
COMMON.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                    help="print one JSON document on stdout instead of text")


def add_command(sub: Any, name: str, summary: str, description: str = "") -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, parents=[COMMON], help=summary,
                                                     description=description or summary)
    return parser


# Methods whose answer only acknowledges a change: under --quiet their text is left out (the exit code says it).
ACKNOWLEDGED = frozenset({"pause", "resume", "reload", "concurrency", "dlq.retry", "dlq.drop"})


def warn(text: str) -> None:
    print(f"halosyncctl: warning: {text}", file=sys.stderr)


@dataclass
class Session:
    args: argparse.Namespace
    location: SocketLocation
    json: bool
    timeout: float
    console: Console
    verbosity: int = 0  # -1 --quiet, 0, 1 --verbose

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Session:
        level = verbosity(args)
        location = resolve_socket(getattr(args, "socket", None), getattr(args, "config", None),
                                  warn=(lambda _text: None) if level < 0 else warn)
        session = cls(args, location, bool(getattr(args, "json", False)), float(getattr(args, "timeout", 30.0)),
                      output_console(), level)
        session.detail(f"socket {location}")
        return session

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0

    @property
    def verbose(self) -> bool:
        return self.verbosity > 0

    def detail(self, text: str) -> None:
        """A line for --verbose only, on stderr (stdout stays the result, for scripts)."""
        if self.verbose:
            print(f"halosyncctl: {text}", file=sys.stderr)

    def call(self, method: str, params: dict[str, Any] | None = None, *, on_event: OnEvent | None = None,
             wait_long: bool = False) -> Any:
        started = time.perf_counter()
        with ControlClient(self.location, timeout=None if wait_long else self.timeout) as client:
            connected = time.perf_counter()
            result = client.call(method, params, on_event=on_event)
        done = time.perf_counter()
        self.detail(f"{method}: connected in {(connected - started) * 1000:.1f} ms, answered in "
                    f"{(done - connected) * 1000:.1f} ms")
        return result

    def print_json(self, document: Any) -> None:
        json.dump(document, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")


def output_console() -> Console:
    """Tables as wide as the terminal; into a pipe or a file (rich would assume 80 columns) as wide as ``COLUMNS``
    says, or PIPE_WIDTH, so that a line stays one line for grep. Cells wrap within their column, never cut."""
    console = Console(highlight=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(highlight=False, width=PIPE_WIDTH)
    return console


PIPE_WIDTH = 200
HEADER_KEPT = 16  # a header up to this long is never narrowed (wrapped or cut): its column is at least as wide
NARROW = 26  # a column whose every cell is at most this wide is never wrapped (a timestamp, an id, a count)
WIDE_MIN = 20  # the least a wrapped column is given before the table turns into one block per row


# --- renderers ---------------------------------------------------------------------------------------------


def when(epoch: Any) -> str:
    if not isinstance(epoch, (int, float)):
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def age(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "-"
    seconds = float(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def shown(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, separators=(", ", ": "))
    return str(value)


def _titled(title: str | None, body: RenderableType) -> RenderableType:
    # A heading line of its own: a table title would be wrapped to the width of a narrow table.
    return Group(Text(title, style="bold"), body) if title else body


class FitTable:
    """A table that fits the width it is given: the short columns (ids, states, times, counts) whole, the long
    ones (reasons, errors, JSON) wrapped at words and folded, never cut; when even that cannot fit (a narrow
    terminal, many columns), one block of ``column  value`` lines per row instead."""

    def __init__(self, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        self.columns = list(columns)
        self.cells = [[shown(v) for v in row] for row in rows]
        self.natural = [max([cell_len(c), *(cell_len(row[n]) for row in self.cells if n < len(row))])
                        for n, c in enumerate(self.columns)]

    def _fits(self, width: int) -> bool:
        need = sum(w if w <= NARROW else max(WIDE_MIN, min(w, len(c)))
                   for w, c in zip(self.natural, self.columns, strict=True))
        return need + 3 * max(0, len(self.columns) - 1) <= width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self._fits(options.max_width) or not self.cells:
            out = Table(show_edge=False, pad_edge=False)
            for column, natural in zip(self.columns, self.natural, strict=True):
                if natural <= NARROW:
                    out.add_column(column, no_wrap=True, min_width=natural)
                else:
                    out.add_column(column, overflow="fold", min_width=min(len(column), HEADER_KEPT, natural))
            for row in self.cells:
                out.add_row(*row)
            yield out
            return
        for n, row in enumerate(self.cells):
            block = Table(show_header=False, show_edge=False, pad_edge=False, box=None)
            block.add_column(style="bold", no_wrap=True)
            block.add_column(overflow="fold")
            for column, value in zip(self.columns, row, strict=False):
                block.add_row(column, value)
            if n:
                yield Text("")
            yield block


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> RenderableType:
    return _titled(title, FitTable(columns, rows))


def pairs(title: str | None, values: Mapping[str, Any]) -> RenderableType:
    out = Table(show_header=False, show_edge=False, pad_edge=False)
    out.add_column(style="bold", no_wrap=True)
    out.add_column(overflow="fold")
    for key, value in values.items():
        out.add_row(key, shown(value))
    return _titled(title, out)


def failing_line(failing: Any) -> dict[str, str]:
    """``queue.failing`` as two lines of a ``pairs`` table: what fails now, and what failed before and was since
    retried or dropped (the ``failed`` total counts both). Nothing for a daemon too old to report it."""
    if not isinstance(failing, Mapping):
        return {}
    return {"failing now": f"{shown(failing.get('now'))} ({shown(failing.get('dead'))} dead letters, "
                           f"{shown(failing.get('retrying'))} writes retrying)",
            "failed before, since resolved": shown(failing.get("before"))}


Render = Callable[[Session, Any], None]


def answer(session: Session, method: str, params: dict[str, Any] | None, render: Render,
           exit_code: Callable[[Any], int] | None = None, *, wait_long: bool = False) -> int:
    """Call ``method``, print its result (JSON or ``render``), and return the exit code ``exit_code`` gives."""
    result = session.call(method, params, wait_long=wait_long)
    if session.json:
        session.print_json(result)
    elif not (session.quiet and method in ACKNOWLEDGED):
        render(session, result)
    return exit_code(result) if exit_code is not None else 0
