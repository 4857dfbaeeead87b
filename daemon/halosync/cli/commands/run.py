"""``halosync run [--once]``: the daemon in the foreground (what the systemd unit starts)."""

from __future__ import annotations

import argparse
from typing import Any

import trio
from loguru import logger

from halosync import log
from halosync.cli.common import guarded, load_all
from halosync.daemon.app import Daemon
from halosync.errors import HalosyncError


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
    try:
        return trio.run(daemon.serve)
    except Exception as exc:
        # Errors from components arrive wrapped in exception groups; the log (which masks secrets) gets one clear
        # line for an expected failure, and the full traceback only for a bug.
        leaf = _first_leaf(exc)
        if isinstance(leaf, HalosyncError):
            logger.error("halosync stopped: {}", leaf)
            return leaf.exit_code
        logger.opt(exception=exc).critical("halosync stopped on an unexpected error (a bug: please report it)")
        return 1


def _first_leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc
