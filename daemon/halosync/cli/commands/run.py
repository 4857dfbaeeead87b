"""``halosync run [--once]``: the daemon in the foreground (what the systemd unit starts)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import trio
from loguru import logger

from halosync import log, secrets
from halosync.cli.common import guarded, load_all, print_json
from halosync.daemon.app import Daemon
from halosync.daemon.run_report import RunReport
from halosync.errors import HalosyncError
from halosync.exception_groups import leaves
from halosync.exitcodes import EX_PROBLEMS


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the daemon in the foreground",
                       description="Run the daemon in the foreground (what the systemd unit starts).")
    p.add_argument("--once", action="store_true",
                   help="one full cycle: poll every enabled source to its end, drain the outbox, exit "
                   "(0 when no lead failed permanently, 1 otherwise)")
    p.add_argument("--json", action="store_true",
                   help="with --once: print the run's report (failures, figures, dead letters) as one JSON document "
                   "on stdout when it exits 1")
    p.set_defaults(handler=guarded(handle))


def handle(args: argparse.Namespace) -> int:
    config, plugins = load_all(args)
    log.setup(config)
    daemon = Daemon(config, plugins, once=args.once)
    try:
        code = trio.run(daemon.serve)
    except Exception as exc:
        # Errors from components arrive wrapped in exception groups; the log (which masks secrets) gets one clear
        # line for an expected failure, and the full traceback only for a bug.
        leaf = leaves(exc)[0]
        if isinstance(leaf, HalosyncError):
            logger.error("halosync stopped: {}", leaf)
            return leaf.exit_code
        logger.opt(exception=exc).critical("halosync stopped on an unexpected error (a bug: please report it)")
        return EX_PROBLEMS
    report = getattr(daemon.engine, "run_report", None)
    if args.once and code != 0 and report is not None:
        print_report(report, json=args.json)
    return code


def print_report(report: RunReport, *, json: bool) -> None:
    """Why `run --once` failed, after the last log line: an operator need not start the daemon to learn it. Text
    on stderr beside the log; with --json one document on stdout."""
    if json:
        print_json(report.as_dict())
    else:
        print("\n".join(secrets.redact(line) for line in report.lines()), file=sys.stderr)

