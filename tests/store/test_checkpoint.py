"""The daemon's SQLite store copies its write-ahead log back from a task of its own, and the WAL stays bounded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from halosync.store import checkpoint
from halosync.store.gateway import Store
from halosync.store.models import KV
from tests.waiting import until


async def test_the_wal_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    db = tmp_path / "halosync.db"
    store = Store(f"sqlite:///{db}", background_checkpoint=True)
    try:
        await store.run(store.create_schema)
        assert store.checkpointer is not None
        execute: Any = store.db.execute_sql  # untyped in peewee
        assert await store.run(lambda: execute("PRAGMA wal_autocheckpoint").fetchone()[0]) == \
            checkpoint.SAFETY_PAGES  # commits no longer checkpoint themselves every 1,000 pages
        async with trio.open_nursery() as nursery:
            nursery.start_soon(store.checkpointer.run)
            for n in range(200):
                await store.transaction(KV.insert(key=f"k{n}", value="x" * 4000).execute)
            checkpointer = store.checkpointer
            await until(lambda: (checkpointer.rounds, checkpointer.pages), lambda rp: rp[0] >= 2 and rp[1] >= 200,
                        what="two background checkpoint rounds copying the 200 rows (rounds, pages)", within=30)
            nursery.cancel_scope.cancel()
        assert store.checkpointer.rounds >= 2 and store.checkpointer.pages >= 200
        assert await store.run(lambda: KV.select().count()) == 200
        frames, copied = store.checkpointer.checkpoint()
        assert frames == copied  # nothing left behind in the WAL
        store.checkpointer.close()
    finally:
        store.close()


def test_offline_commands_and_postgresql_have_no_checkpointer(tmp_path: Path, pg_url: str) -> None:
    assert Store(f"sqlite:///{tmp_path}/a.db").checkpointer is None  # CLI commands: SQLite's own checkpoints
    assert Store("sqlite://", background_checkpoint=True).checkpointer is None  # in memory: no WAL
    assert Store(pg_url, background_checkpoint=True).checkpointer is None
