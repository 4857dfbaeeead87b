"""HaloPSA's rolling window shared through the store (issue 18): three daemons together stay under the instance's
limit and together use all of it; a budget learned by one is followed by all."""

from __future__ import annotations

import pytest
import trio

from halosync.ha.windows import StoreBudgets
from halosync.provider.rolling import SharedRollingWindowLimiter
from halosync.store.gateway import Store
from tests.ha.budget_load import shared_window_load

pytestmark = pytest.mark.postgres


async def test_three_daemons_share_one_window_without_429s(pg_url: str) -> None:
    result = await shared_window_load(pg_url, 3, 20, 1.0, 4.5)
    assert result["refused"] <= 0.01, result
    assert result["utilisation"] >= 0.9, result


async def test_a_budget_learned_by_one_daemon_is_followed_by_the_others(pg_url: str) -> None:
    store = Store(pg_url)
    await store.run(store.create_schema)
    try:
        async with trio.open_nursery() as nursery:
            one, two = StoreBudgets(store, "h:1:a"), StoreBudgets(store, "h:2:b")
            nursery.start_soon(one.run)
            nursery.start_soon(two.run)
            first = SharedRollingWindowLimiter(one.window("halopsa:x"), 300, 300.0)
            second = SharedRollingWindowLimiter(two.window("halopsa:x"), 300, 300.0)
            await first.acquire()
            first.release()
            first.rebudget(5, 2.0)  # what a 429's text taught the first daemon
            for _ in range(4):
                await second.acquire()
                second.release()
            assert (second.limit, second.window) == (5, 2.0)
            assert second.state().used == 5  # the first daemon's request counts for the second too
            with trio.move_on_after(0.5) as waited:
                await second.acquire()  # the window holds 5: no sixth before the oldest leaves it
            assert waited.cancelled_caught
            nursery.cancel_scope.cancel()
    finally:
        store.close()
