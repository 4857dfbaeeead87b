"""The shared rolling-window limiter and circuit breaker (halosync.provider.rolling / .circuit)."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from halosync.provider.circuit import CircuitBreaker, CircuitOpen
from halosync.provider.rolling import RollingWindowLimiter


async def test_limiter_keeps_any_window_under_its_limit(autojump_clock: trio.testing.MockClock) -> None:
    limiter = RollingWindowLimiter(5, 10.0)
    sent: list[float] = []
    for _ in range(17):
        await limiter.acquire()
        sent.append(trio.current_time())
        limiter.release()
    for index, at in enumerate(sent):
        assert sum(1 for other in sent[index:] if other < at + 10.0) <= 5
    assert sent[-1] - sent[0] == pytest.approx(30.0)  # and it does not wait longer than it must


async def test_a_429_lowers_the_budget_then_it_grows_back(autojump_clock: trio.testing.MockClock) -> None:
    limiter = RollingWindowLimiter(100, 10.0)
    for _ in range(8):
        await limiter.acquire()
        limiter.release()
    limiter.throttled()  # the 8th was refused: the instance took 7
    assert limiter.state().effective_limit == 7 and limiter.state().throttled == 1
    await trio.sleep(30.0)
    limiter.state()
    assert limiter.state().effective_limit == 17  # three clean windows: a tenth of the budget back


async def test_in_flight_requests_count(autojump_clock: trio.testing.MockClock) -> None:
    limiter = RollingWindowLimiter(2, 10.0)
    await limiter.acquire()
    await limiter.acquire()
    with trio.move_on_after(1.0) as waited:
        await limiter.acquire()
    assert waited.cancelled_caught
    assert limiter.state().used == 2 and limiter.state().remaining == 0


async def test_breaker_opens_after_repeated_failures_and_tries_once_after_cooldown(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker("halopsa", threshold=3, cooldown=10.0)
    for _ in range(3):
        breaker.check()
        breaker.failure("HTTP 503")
    with pytest.raises(CircuitOpen, match=r"3 requests in a row failed \(last: HTTP 503\)"):
        breaker.check()
    await trio.sleep(10.0)
    breaker.check()  # the one trial
    with pytest.raises(CircuitOpen):
        breaker.check()  # others wait for its verdict
    breaker.failure("ReadTimeout")
    await trio.sleep(10.0)
    assert breaker.state == "open"  # the cooldown doubled
    await trio.sleep(10.0)
    breaker.check()
    breaker.success()
    assert breaker.state == "closed"  # type: ignore[comparison-overlap]  # mypy keeps the narrowing to "open"
    breaker.check()


async def test_a_429_caused_by_others_does_not_starve_the_sync(autojump_clock: trio.testing.MockClock) -> None:
    limiter = RollingWindowLimiter(300, 300.0)
    for _ in range(3):
        await limiter.acquire()
        limiter.release()
    limiter.throttled()  # halosync sent 3; the other integrations sharing the instance took the rest
    assert limiter.state().effective_limit == 15  # a twentieth of the budget, not 2


async def test_waking_at_the_deadline_always_finds_the_slot_free(autojump_clock: trio.testing.MockClock) -> None:
    # 0.01 + 2.0 - 2.0 < 0.01 in floating point: a deadline computed one way and an expiry the other would spin.
    limiter = RollingWindowLimiter(1, 2.0)
    await trio.sleep(0.01)
    await limiter.acquire()
    limiter.release()
    with trio.fail_after(5):  # virtual seconds; a spinning limiter never lets the clock get there
        await limiter.acquire()
    assert trio.current_time() == pytest.approx(2.01)
