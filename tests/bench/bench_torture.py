"""Kill torture: ``python -m tests.bench torture`` SIGKILLs a real `halosync run` 50 times (``--quick``: 10).

Most kills are aimed at a HaloPSA write in flight (the fake HaloPSA applies a share of POSTs and holds their
answer back); the fake Apollo holds LinkedIn-only people, duplicates, and later duplicates that arrive between
kills. A final `run --once` finishes the work; then every person of the fake Apollo's truth must have exactly one
HaloPSA user. See tests/e2e/torture.py. Takes a few minutes (each start of the daemon costs about a second).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.e2e.torture import Torture, run_torture

TITLE = "torture"
Row = tuple[str, float | int | str, str, str]


def run(quick: bool) -> list[Row]:
    plan = Torture(kills=10 if quick else 50, contacts=150 if quick else 300, later_waves=3 if quick else 6)
    with tempfile.TemporaryDirectory(prefix="halosync-torture-") as directory:
        outcome = run_torture(Path(directory), plan, say=lambda line: print(f"  {line}", file=sys.stderr))
    for problem in outcome.problems[:10]:
        print(f"  problem: {problem}", file=sys.stderr)
    return [
        ("SIGKILLs", outcome.kills, "kills", f">= {plan.kills}"),
        ("kills while a HaloPSA write was in flight", outcome.in_flight_kills, "kills", "most"),
        ("leads (Apollo contacts)", outcome.leads, "contacts", ""),
        ("people (truth)", outcome.people, "people", ""),
        ("HaloPSA users at the end", outcome.users, "users", "= people"),
        ("lost", outcome.lost, "people", "0"),
        ("duplicated", outcome.duplicated, "users", "0"),
        ("final run --once exit code", outcome.final_exit, "", "0"),
        ("wall time", round(outcome.seconds, 1), "s", ""),
    ]
