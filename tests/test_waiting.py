"""The bounded wait every test polls with: it returns what it waited for, or fails naming it and the last value."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from tests.waiting import until, until_sync


async def test_until_returns_the_value_that_satisfied_it(autojump_clock: trio.testing.MockClock) -> None:
    seen: list[int] = []

    async def read() -> int:
        seen.append(len(seen))
        return seen[-1]

    assert await until(read, lambda n: n >= 3, what="the fourth read") == 3
    assert await until(lambda: "ready", what="a sync value") == "ready"


async def test_until_fails_naming_what_it_waited_for_and_the_last_value(
        autojump_clock: trio.testing.MockClock) -> None:
    started = trio.current_time()
    with pytest.raises(AssertionError) as failed:
        await until(lambda: {"pending": 2}, lambda q: q["pending"] == 0, what="an empty queue", within=5)
    assert str(failed.value) == "waited 5 s for an empty queue; last seen: {'pending': 2}"
    assert 5 <= trio.current_time() - started < 5.1  # bounded by its own clock, not pytest's timeout


def test_until_sync_fails_showing_the_end_of_a_long_value() -> None:
    with pytest.raises(AssertionError) as failed:
        until_sync(lambda: "x" * 5000 + "the end", lambda log: "ready" in log, what="a line", within=0.05, step=0.01)
    assert str(failed.value).startswith("waited 0.05 s for a line; last seen: ...")
    assert str(failed.value).endswith("the end'") and len(str(failed.value)) < 2100
