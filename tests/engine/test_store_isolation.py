"""Stores that share one PostgreSQL database (a schema each) never wait for each other's locks."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest
import trio

from halosync.engine.sql import PLANNER_LOCK_SQL
from tests.engine.memory import MemoryPlugin, MemorySink, MemorySource, lead, make_daemon
from tests.pgschema import postgres_url


@pytest.mark.postgres
async def test_a_store_is_not_held_up_by_another_store_planning_on_the_same_database(
    tmp_path: Path, pg_url: str
) -> None:
    # Another store, in the database's default schema, is in the middle of planning: it holds its planner lock.
    other = psycopg2.connect(postgres_url())
    try:
        with other.cursor() as cur:
            cur.execute("SET search_path TO public")
            cur.execute(PLANNER_LOCK_SQL)
        sink = MemorySink()
        plugin = MemoryPlugin(MemorySource([lead(n) for n in range(3)]), sink)
        with trio.fail_after(20):
            assert await make_daemon(tmp_path, pg_url, plugin).serve() == 0
        assert (sink.count("company"), sink.count("person")) == (1, 3)
    finally:
        other.rollback()
        other.close()
