"""What both programs (``halosync`` and ``halosyncctl``) do alike on their command line.

- Global options are accepted before and after the command (``halosyncctl --socket S status`` and ``halosyncctl
  status --socket S``): ``everywhere`` adds them to the program's parser and to every subcommand's, whatever
  commands exist at run time, with ``SUPPRESS`` defaults so a value given before the command is not reset by the
  subcommand's parser.
- ``--quiet`` / ``--verbose``: ``verbosity`` reads them (-1, 0 or 1; the later one wins when both are given).
- A reader that goes away (``halosyncctl --json dlq list | head``) ends the program quietly: ``closed_stdout``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from halosync.exitcodes import EX_PROBLEMS


@dataclass(frozen=True)
class Option:
    """One global option: its flags and ``add_argument`` keywords (``default`` is always ``SUPPRESS``)."""

    flags: tuple[str, ...]
    keywords: dict[str, Any]
    exclusive_with: str | None = None  # the dest of another option in ``everywhere``'s list it cannot be used with


QUIET = Option(("-q", "--quiet"), {"action": "store_const", "const": -1, "dest": "verbosity",
                                   "help": "print only errors on stderr (and on stdout only the result)"})
VERBOSE = Option(("-v", "--verbose"), {"action": "store_const", "const": 1, "dest": "verbosity",
                                       "help": "print more detail on stderr (debug logging, timings)"})


def everywhere(parser: argparse.ArgumentParser, options: Sequence[Option]) -> None:
    """Add ``options`` to ``parser`` and to every subcommand's parser beneath it. An option a subcommand already
    defines under the same flag is left to it (that subcommand's meaning wins)."""
    for each in _parsers(parser):
        groups: dict[str, argparse._MutuallyExclusiveGroup] = {}
        for option in options:
            flags = [f for f in option.flags if f not in each._option_string_actions]
            if not flags:
                continue
            target: Any = each
            if option.exclusive_with is not None:
                key = "/".join(sorted((option.keywords.get("dest", ""), option.exclusive_with)))
                target = groups.setdefault(key, each.add_mutually_exclusive_group())
            target.add_argument(*flags, default=argparse.SUPPRESS, **option.keywords)


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """The parser and every subcommand's parser beneath it, each once (aliases share a parser)."""
    seen: set[int] = set()
    todo = [parser]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo.extend(action.choices.values())


def subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    """Every command path beneath ``parser`` (``("dlq list", parser)``...), in the order they were added; what the
    completion scripts and man pages are generated from, so a command added by a new module is in them."""
    out: list[tuple[str, argparse.ArgumentParser]] = []

    def walk(prefix: str, current: argparse.ArgumentParser) -> None:
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                seen: set[int] = set()
                for name, child in action.choices.items():
                    if id(child) in seen:
                        continue  # an alias
                    seen.add(id(child))
                    path = f"{prefix} {name}".strip()
                    out.append((path, child))
                    walk(path, child)

    walk("", parser)
    return out


def verbosity(args: argparse.Namespace) -> int:
    return int(getattr(args, "verbosity", 0) or 0)


def exclusive(parser: argparse.ArgumentParser, args: argparse.Namespace, *dests: str) -> None:
    """Options exclusive with each other, given one before the command and one after it (which argparse's groups
    cannot see): a usage error, as it would be on one side."""
    given = [d for d in dests if getattr(args, d, None) is not None]
    if len(given) > 1:
        parser.error(" and ".join(f"--{d.replace('_', '-')}" for d in given) + " cannot be used together")


@contextlib.contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, with None, leave) environment variables for the length of a command, then put them back: `main`
    is also called in-process (tests, `halosync demo`), where a lasting change would leak into the next call."""
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is not None:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def closed_stdout(run: Callable[[], int]) -> int:
    """Run a program's command and flush its output; when the reader has gone away (``| head``), end with
    EX_PROBLEMS and no traceback. stdout is then pointed at /dev/null, so the interpreter's own flush at exit
    does not fail a second time."""
    try:
        code = run()
        sys.stdout.flush()
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EX_PROBLEMS
    return code
