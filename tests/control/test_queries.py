"""`halosyncctl queries` and the slow-query log, against a running daemon on SQLite and PostgreSQL: every statement
the store runs is timed, grouped by its normalised text (no values), the top ones by total time are shown, and a
statement over database.slow_query_ms is logged with its duration and, on request, its EXPLAIN plan."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from loguru import logger

from halosync.store.querystats import QueryStats, normalise
from tests.control.harness import config_text, restore_logging, running_daemon, short_dir
from tests.inspect.seed import seed

Capsys = pytest.CaptureFixture[str]
__all__ = ["restore_logging"]  # a fixture used by name


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    lines: list[str] = []
    handler = logger.add(lambda m: lines.append(m.record["message"]), level="WARNING", format="{message}")
    yield lines
    with contextlib.suppress(ValueError):  # a reload's log.setup() removed it already
        logger.remove(handler)


def test_normalising_folds_values_and_placeholder_lists() -> None:
    assert normalise('SELECT "t1"."id" FROM "outbox" AS "t1" WHERE ("t1"."id" IN (?, ?, ?)) LIMIT ?') == \
        normalise('SELECT "t1"."id" FROM "outbox" AS "t1"\n WHERE ("t1"."id" IN (%s, %s)) LIMIT 100') == \
        'SELECT "t1"."id" FROM "outbox" AS "t1" WHERE ("t1"."id" IN (...)) LIMIT ?'
    assert normalise("INSERT INTO \"total\" (\"name\", \"value\") VALUES (?, ?), (?, ?)") == \
        'INSERT INTO "total" ("name", "value") VALUES (...)'
    assert normalise("SELECT 1 FROM x WHERE email = 'ada@example.com'") == "SELECT ? FROM x WHERE email = ?"


def test_statistics_add_up_and_are_ordered() -> None:
    stats = QueryStats()
    for seconds in (0.001, 0.003):
        stats.record("SELECT a FROM t WHERE id IN (?, ?)", (1, 2), seconds, lambda s, p: [])
    stats.record("UPDATE t SET a = ?", (1,), 0.010, lambda s, p: [])
    top = stats.top(10)
    assert [r["statement"] for r in top] == ["UPDATE t SET a = ?", "SELECT a FROM t WHERE id IN (...)"]
    assert top[1] == {"statement": "SELECT a FROM t WHERE id IN (...)", "count": 2, "total_ms": 4.0,
                      "mean_ms": 2.0, "max_ms": 3.0, "slow": 0}
    assert stats.top(1, "count")[0]["statement"].startswith("SELECT")


async def test_queries_shows_the_top_statements_by_total_time(capsys: Capsys, db_url: str) -> None:
    async with running_daemon(database_url=db_url) as running:
        await running.daemon.store.run(seed)
        await running.ctl_json(capsys, "status")
        code, result = await running.ctl_json(capsys, "queries", "--top", "5")
        assert code == 0
        assert result["database"] == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
        top = result["top"]
        assert 1 <= len(top) <= 5 and result["executions"] >= sum(r["count"] for r in top) > 0
        assert [r["total_ms"] for r in top] == sorted((r["total_ms"] for r in top), reverse=True)
        assert all(r["max_ms"] >= r["mean_ms"] >= 0 for r in top) and top[0]["total_ms"] > 0
        assert not any("example.com" in r["statement"].lower() for r in top)  # values are never kept
        code, out, _ = await running.ctl(capsys, "queries", "--top", "3")
        assert code == 0 and "statement" in out and "total ms" in out and "statement(s) of" in out
        code, result = await running.ctl_json(capsys, "queries", "--reset")
        assert code == 0
        code, after = await running.ctl_json(capsys, "queries")
        assert after["executions"] < result["executions"] and after["since"] > result["since"]
        code, out, err = await running.ctl(capsys, "queries", "--top", "0")
        assert code == 2 and "top must be between 1 and 1000" in err


async def test_a_slow_statement_is_logged_with_its_plan_and_no_values(capsys: Capsys, db_url: str,
                                                                     warnings: list[str]) -> None:
    with short_dir() as base:
        state = base / "state"
        state.mkdir()
        text = config_text(state, base / "control.sock", database_url=db_url).replace(
            "[database]\n", "[database]\nslow_query_ms = 0.0001\nexplain_slow_queries = true\n")
        async with running_daemon(text=text, database_url=db_url) as running:
            await running.daemon.store.run(seed)
            await running.ctl_json(capsys, "dlq", "list")
    slow = [line for line in warnings if line.startswith("slow query: ")]
    assert slow, warnings
    assert all("(database.slow_query_ms is 0.0001)" in line for line in slow)
    selects = [line for line in slow if "SELECT" in line and "\n  plan: " in line]
    assert selects, slow[:3]
    plan_words = ("SCAN", "SEARCH") if db_url.startswith("sqlite") else ("Scan", "Result", "Limit", "Sort")
    assert any(any(word in line.split("plan: ", 1)[1] for word in plan_words) for line in selects), selects[:3]
    assert not any("example.com" in line.lower() for line in slow)  # values are never logged
