"""The store gateway: one schema on both databases, transactions that commit together, concurrent trio tasks."""

from __future__ import annotations

import pytest
import trio

from halosync.store.gateway import Store
from halosync.store.models import SourceCursor, StagedLead


def _stage(n: int) -> None:
    StagedLead.create(source="t", source_id=str(n), payload={"n": n}, content_hash=str(n))
    (SourceCursor.insert(source="t", cursor=str(n))
     .on_conflict(conflict_target=[SourceCursor.source], update={SourceCursor.cursor: str(n)}).execute())


async def test_concurrent_transactions_all_commit(db_url: str) -> None:
    store = Store(db_url)
    await store.run(store.create_schema)
    async with trio.open_nursery() as nursery:
        for n in range(50):
            nursery.start_soon(store.transaction, _stage, n)
    assert await store.run(lambda: StagedLead.select().count()) == 50
    assert await store.run(lambda: SourceCursor.get(SourceCursor.source == "t").cursor) is not None
    store.close()


async def test_failed_transaction_leaves_nothing(db_url: str) -> None:
    store = Store(db_url)
    await store.run(store.create_schema)

    def stage_then_fail() -> None:
        _stage(1)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await store.transaction(stage_then_fail)
    assert await store.run(lambda: StagedLead.select().count()) == 0
    assert await store.run(lambda: SourceCursor.select().count()) == 0
    store.close()
