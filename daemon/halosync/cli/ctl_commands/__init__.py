"""What every ``halosyncctl`` command shares: the session (where the daemon is, how to call it), JSON or human
output, and small renderers for rich tables.

A command module defines ``register(sub)``; it adds its parser with ``add_command`` and sets ``handler`` to a
function ``(Session) -> int`` (the exit code).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from halosync.control.client import ControlClient, OnEvent, SocketLocation, resolve_socket

# --json is accepted both before the command and after it (`halosyncctl --json status`, `halosyncctl status --json`).
COMMON = argparse.ArgumentParser(add_help=False)
COMMON.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                    help="print one JSON document on stdout instead of text")


def add_command(sub: Any, name: str, summary: str, description: str = "") -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, parents=[COMMON], help=summary,
                                                     description=description or summary)
    return parser


@dataclass
class Session:
    args: argparse.Namespace
    location: SocketLocation
    json: bool
    timeout: float
    console: Console

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Session:
        location = resolve_socket(getattr(args, "socket", None), getattr(args, "config", None))
        return cls(args, location, bool(getattr(args, "json", False)), float(getattr(args, "timeout", 30.0)),
                   Console(highlight=False))

    def call(self, method: str, params: dict[str, Any] | None = None, *, on_event: OnEvent | None = None,
             wait_long: bool = False) -> Any:
        with ControlClient(self.location, timeout=None if wait_long else self.timeout) as client:
            return client.call(method, params, on_event=on_event)

    def print_json(self, document: Any) -> None:
        json.dump(document, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")


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


def _titled(title: str | None, body: Table) -> RenderableType:
    # A heading line of its own: a table title would be wrapped to the width of a narrow table.
    return Group(Text(title, style="bold"), body) if title else body


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> RenderableType:
    out = Table(show_edge=False, pad_edge=False)
    for column in columns:
        out.add_column(column)
    for row in rows:
        out.add_row(*(shown(v) for v in row))
    return _titled(title, out)


def pairs(title: str | None, values: Mapping[str, Any]) -> RenderableType:
    out = Table(show_header=False, show_edge=False, pad_edge=False)
    out.add_column(style="bold")
    out.add_column()
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
    else:
        render(session, result)
    return exit_code(result) if exit_code is not None else 0
