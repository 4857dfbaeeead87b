"""``halosync integrity [--repair] [--json]``: the integrity checks of ``halosyncctl integrity``, on the store
directly (no daemon needed). Links are verified against the sinks themselves unless ``--mirror-only``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import trio
from loguru import logger

from halosync import log, secrets
from halosync.cli.common import fail, guarded, load_all, print_json
from halosync.cli.ctl_commands import output_console
from halosync.cli.ctl_commands.integrity import print_report
from halosync.contracts import Sink
from halosync.daemon.failures import describe
from halosync.exitcodes import EX_PROBLEMS
from halosync.inspect.integrity import STUCK_AFTER_SECONDS, run_checks
from halosync.plugin.host import PluginHost
from halosync.store.gateway import Store
from halosync.store.presence import missing_store


def register(sub: Any) -> None:
    p = sub.add_parser("integrity", help="the integrity checks of `halosyncctl integrity`, on the store directly",
                       description="Check the state store: links point to existing sink records, no duplicate "
                       "links, no merge without a decision, no outbox row stuck in flight, cursors not ahead of "
                       "committed work, schema version. Exit 1 when a problem is left.")
    p.add_argument("--repair", action="store_true", help="fix what can be fixed safely, report the rest")
    p.add_argument("--mirror-only", action="store_true",
                   help="verify links against the local sink mirror only (no provider calls)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=guarded(handle))


async def _started_sinks(sinks: list[Sink], request_timeout: float) -> dict[str, Sink]:
    ready: dict[str, Sink] = {}
    for sink in sinks:
        try:
            with trio.fail_after(request_timeout):
                await sink.start()
        except Exception as exc:  # any failure: the mirror answers, and the reason is said (a TooSlowError has none)
            reason = f"no answer within {request_timeout:g} s" if isinstance(exc, trio.TooSlowError) else describe(exc)
            print(f"halosync: {sink.name}: cannot reach the sink ({secrets.redact(reason)}); checking its links "
                  "against the mirror", file=sys.stderr)
            continue
        ready[sink.name] = sink
    return ready


async def _check(args: argparse.Namespace, store: Store, sinks: list[Sink], request_timeout: float) -> dict[str, Any]:
    ready = await _started_sinks(sinks, request_timeout)
    try:
        return await run_checks(store, ready, repair=args.repair, fetch_timeout=request_timeout,
                                stuck_after=max(STUCK_AFTER_SECONDS, 10 * request_timeout))
    finally:
        for sink in sinks:
            with trio.move_on_after(5, shield=True):
                await sink.aclose()


def handle(args: argparse.Namespace) -> int:
    config, plugins = load_all(args)
    log.setup(config, level="warning")
    timeout = float(config.get("sync.request_timeout"))
    absent = missing_store(config.database_url, timeout=config.get("database.timeout"))
    if absent is not None:  # nothing to check, and nothing created by looking
        if args.json:
            print_json({"ok": False, "exists": False, "error": absent, "checks": []})
        return fail(absent, EX_PROBLEMS)
    sinks = [] if args.mirror_only else plugins.sinks(PluginHost(config))
    store = Store(config.database_url, timeout=config.get("database.timeout"),
                  pool_size=config.get("database.pool_size"))
    try:
        report = trio.run(_check, args, store, sinks, timeout)
    finally:
        store.close()
    if args.repair:
        logger.info("integrity repair: {} problem(s) repaired", sum(c["repaired"] for c in report["checks"]))
    if args.json:
        print_json(report)
    else:
        print_report(output_console(), report)
    return 0 if report["ok"] else 1
