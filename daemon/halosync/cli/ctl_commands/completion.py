"""``halosyncctl completion bash|zsh|fish``: the shell completion script of ``halosyncctl``, on stdout. Needs no
daemon (it is generated from halosyncctl's own commands)."""

from __future__ import annotations

import sys
from typing import Any

from halosync.cli import manuals


def register(sub: Any) -> None:
    p = sub.add_parser("completion", help="print the shell completion script (bash, zsh or fish)",
                       description="Print halosyncctl's completion script for SHELL on stdout, generated from its "
                       "commands; no daemon is needed. For example: `halosyncctl completion fish > "
                       "~/.config/fish/completions/halosyncctl.fish`.")
    p.add_argument("shell", metavar="SHELL", choices=manuals.SHELLS, help="bash, zsh or fish")
    p.set_defaults(handler=handle, offline=True)


def handle(args: Any) -> int:
    sys.stdout.write(manuals.completion(manuals.programs()["halosyncctl"](), args.shell))
    return 0
