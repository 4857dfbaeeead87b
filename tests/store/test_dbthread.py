"""SQLite: the store's units of work run on one thread of its own, so the daemon keeps one connection and one warm
page cache, whatever else runs in trio's worker threads."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import trio

from halosync.store import dbthread
from halosync.store.gateway import Store
from halosync.store.models import KV
from tests.waiting import until


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path}/halosync.db")
    s.create_schema()
    return s


async def test_units_share_one_thread_and_connection_between_other_thread_calls(store: Store) -> None:
    seen: set[tuple[int, int]] = set()

    def unit() -> None:
        connection: Any = store.db.connection  # untyped in peewee
        seen.add((threading.get_ident(), id(connection())))

    try:
        for _ in range(20):
            await store.run(unit)
            await trio.to_thread.run_sync(time.sleep, 0)  # an audit line, a status read: another thread call
            await store.transaction(unit)
        assert len(seen) == 1
    finally:
        store.close()


async def test_a_started_unit_commits_even_if_its_caller_is_cancelled(store: Store) -> None:
    started = threading.Event()

    def slow_write() -> None:
        started.set()
        time.sleep(0.3)
        KV.create(key="k", value="v")

    try:
        with trio.move_on_after(0.05) as scope:
            await store.transaction(slow_write)  # not abandoned: it returns once the unit has committed
            await trio.lowlevel.checkpoint()  # the cancellation lands here, as with trio.to_thread
        assert scope.cancelled_caught and started.is_set()
        assert await store.run(lambda: KV.get(KV.key == "k").value) == "v"
    finally:
        store.close()


async def test_errors_reach_the_caller_and_an_idle_thread_leaves(store: Store,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dbthread, "IDLE_EXIT", 0.05)

    def fail() -> None:
        raise ValueError("no such thing")

    thread = store._thread
    assert thread is not None

    try:
        with pytest.raises(ValueError, match="no such thing"):
            await store.run(fail)
        assert thread.alive
        # idle: it leaves, closing its connection
        await until(lambda: thread.alive, lambda alive: not alive, what="the idle store thread to leave", within=5)
        assert await store.run(lambda: KV.select().count()) == 0  # the next unit brings it back
        assert thread.alive
    finally:
        store.close()
    assert not thread.alive
