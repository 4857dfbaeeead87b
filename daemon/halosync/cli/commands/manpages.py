"""``halosync manpages DIR``: write the man pages of ``halosync`` and ``halosyncctl`` (``DIR/PROG.1``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from halosync.cli import manuals
from halosync.cli.common import fail
from halosync.cli.conventions import verbosity
from halosync.exitcodes import EX_OK, EX_PROBLEMS


def register(sub: Any) -> None:
    p = sub.add_parser("manpages", help="write the man pages of halosync and halosyncctl into a folder",
                       description="Write halosync.1 and halosyncctl.1 (generated from the programs' commands) "
                       "into DIR, creating it if needed. Read one with `man -l DIR/halosync.1`, or point MANPATH "
                       "at DIR's parent when DIR is a man1 folder (`make install` writes them to "
                       ".venv/share/man/man1).")
    p.add_argument("directory", metavar="DIR", type=Path, help="the folder to write into")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        written = manuals.write_man_pages(args.directory)
    except OSError as exc:
        return fail(f"cannot write the man pages into {args.directory}: {exc.strerror or exc}", EX_PROBLEMS)
    if verbosity(args) >= 0:  # --quiet: only errors
        for path in written:
            print(path)
    return EX_OK
