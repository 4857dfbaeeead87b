"""``halosync run [--once]``: the daemon in the foreground (what the systemd unit starts)."""

from __future__ import annotations

import argparse
from typing import Any

import trio

from halosync import log
from halosync.cli.common import guarded, load_all
from halosync.daemon.app import Daemon


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the daemon in the foreground",
                       description="Run the daemon in the foreground (what the systemd unit starts).")
    p.add_argument("--once", action="store_true",
                   help="one full cycle: poll every enabled source to its end, drain the outbox, exit "
                   "(0 when no lead failed permanently, 1 otherwise)")
    p.set_defaults(handler=guarded(handle))


def handle(args: argparse.Namespace) -> int:
    config, plugins = load_all(args)
    log.setup(config)
    daemon = Daemon(config, plugins, once=args.once)
    return trio.run(daemon.serve)
