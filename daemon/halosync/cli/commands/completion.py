"""``halosync completion bash|zsh|fish``: the shell completion script of ``halosync``, on stdout."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from halosync.cli import manuals
from halosync.exitcodes import EX_OK


def register(sub: Any) -> None:
    p = sub.add_parser("completion", help="print the shell completion script (bash, zsh or fish)",
                       description="Print halosync's completion script for SHELL on stdout, generated from its "
                       "commands. For example: `halosync completion bash > "
                       "~/.local/share/bash-completion/completions/halosync` (`make install` writes every "
                       "shell's script of both programs into .venv/share).")
    p.add_argument("shell", metavar="SHELL", choices=manuals.SHELLS, help="bash, zsh or fish")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    sys.stdout.write(manuals.completion(manuals.programs()["halosync"](), args.shell))
    return EX_OK
