"""``halosync diagnose [--json] [--timeout S]``: every check, one line each with pass/warn/fail and a fix.

Exit 0 when nothing failed (warnings allowed), 1 when a check failed, 78 when the configuration is invalid (then
nothing else can be checked, and each configuration problem is printed as ``FILE:LINE: key.path: message``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import Any

import trio

from halosync.cli.common import guarded, load_all, print_json
from halosync.contracts import CheckResult
from halosync.diagnose.runner import run_checks
from halosync.errors import ConfigError
from halosync.exitcodes import EX_CONFIG, EX_OK, EX_PROBLEMS


def register(sub: Any) -> None:
    p = sub.add_parser("diagnose", help="check configuration, database, providers and the running daemon",
                       description="Offline checks: configuration, state dir, database, the running daemon's "
                       "socket and listener, and for each enabled plugin DNS, TCP, TLS, clock, auth, permissions "
                       "and rate-limit headroom. One line per check; exit 1 when one fails.")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="deadline of each network step (default 10; a plugin's own checks get 3 times this)")
    p.set_defaults(handler=guarded(handle))


def handle(args: argparse.Namespace) -> int:
    try:
        config, plugins = load_all(args)
    except ConfigError as exc:
        hint = "fix the lines above; `halosync check-config` repeats them"
        results = [CheckResult("config", "fail", f"{problem.file}:{problem.line}: {problem.key}: {problem.message}",
                               hint) for problem in exc.problems]
        report(results, as_json=args.json)
        return EX_CONFIG
    results = trio.run(lambda: run_checks(config, plugins, within=args.timeout))
    report(results, as_json=args.json)
    return EX_PROBLEMS if any(r.status == "fail" for r in results) else EX_OK


def report(results: list[CheckResult], *, as_json: bool) -> None:
    counts = {s: sum(r.status == s for r in results) for s in ("pass", "warn", "fail")}
    if as_json:
        print_json({"ok": counts["fail"] == 0, "summary": counts, "checks": [asdict(r) for r in results]})
        return
    width = max((len(r.name) for r in results), default=10)
    for r in results:
        line = f"{r.status:<4}  {r.name:<{width}}  {r.message}"
        if r.status != "pass" and r.hint:
            line += f"  -> fix: {r.hint}"
        print(line)
    print(f"\n{counts['pass']} passed, {counts['warn']} warning(s), {counts['fail']} failed", file=sys.stderr)
