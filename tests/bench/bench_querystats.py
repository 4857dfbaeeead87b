"""What timing every statement costs (issue 15's slow-query analysis): the store's databases time each statement
at ``execute_sql`` and group it by normalised text. Measured two ways:

- per statement: one indexed SELECT on an SQLite file, through a plain ``peewee.SqliteDatabase`` and through the
  store's ``TimedSqlite``, in alternating rounds (the best round of each counts: the machine is shared);
- per run: a `run --once` of N leads in process against both fakes, counting the statements the store ran, so that
  the overhead per statement times the statements per run gives its share of the run's time.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import peewee as pw
import trio

from halosync import log
from halosync.cli.commands.demo import DemoFakes
from halosync.store.database import TimedSqlite
from halosync.store.querystats import QueryStats
from tests.e2e.rig import Rig

TITLE = "statement timing"
Row = tuple[str, float | int | str, str, str]
SQL = "SELECT name FROM t WHERE id = ?"


def _per_statement(db: Any, n: int) -> float:  # peewee's execute_sql is untyped
    started = time.perf_counter()
    for i in range(n):
        db.execute_sql(SQL, (i % 1000,)).fetchone()
    return (time.perf_counter() - started) / n


def _databases(path: Path) -> tuple[Any, TimedSqlite]:
    plain: Any = pw.SqliteDatabase(str(path), check_same_thread=False)
    timed = TimedSqlite(str(path), check_same_thread=False)
    timed.stats = QueryStats(slow_ms=1000.0)
    plain.execute_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    plain.execute_sql("WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 999) "
                      "INSERT INTO t (id, name) SELECT i, 'name' || i FROM s")
    return plain, timed


async def _run_once(leads: int, directory: Path) -> tuple[int, float, float]:
    """(statements, seconds in them, seconds of the run) of one `run --once` of ``leads`` leads."""
    fakes = DemoFakes.create(leads, seed=42, halo_rate=100_000_000, duplicate_share=0.1)
    async with trio.open_nursery() as nursery:
        await fakes.serve(nursery)
        rig = Rig(fakes, directory, f"sqlite:///{directory}/halosync.db", sync={"batch_size": 100})
        daemon = rig.daemon(once=True)
        started = time.perf_counter()
        with trio.fail_after(600):
            await daemon.serve()
        elapsed = time.perf_counter() - started
        summary = daemon.store.query_stats.summary()
        nursery.cancel_scope.cancel()
    return summary["executions"], summary["total_ms"] / 1000, elapsed


def run(quick: bool) -> list[Row]:
    log.setup(level="warning")
    n, rounds, leads = (20_000, 5, 2_000) if quick else (100_000, 7, 20_000)
    with tempfile.TemporaryDirectory() as directory:
        plain, timed = _databases(Path(directory) / "bench.db")
        best_plain = best_timed = float("inf")
        for _ in range(rounds):
            best_plain = min(best_plain, _per_statement(plain, n))
            best_timed = min(best_timed, _per_statement(timed, n))
        plain.close()
        timed.close()
    overhead = best_timed - best_plain
    with tempfile.TemporaryDirectory() as directory:
        statements, in_store, elapsed = trio.run(_run_once, leads, Path(directory))
    return [
        ("indexed SELECT, plain peewee", best_plain * 1e6, "µs", ""),
        ("indexed SELECT, timed (the store's)", best_timed * 1e6, "µs", ""),
        ("timing overhead per statement", overhead * 1e6, "µs", "< 5"),
        (f"statements in a run --once of {leads:,} leads", statements, "statements", ""),
        ("statements per lead", statements / leads, "statements", ""),
        ("time in the store, share of the run", 100 * in_store / elapsed, "%", ""),
        ("timing overhead, share of the run", 100 * statements * max(overhead, 0.0) / elapsed, "%", "< 1"),
    ]
