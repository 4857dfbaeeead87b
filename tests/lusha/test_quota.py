"""Lusha's per-plan quotas from its nine rate headers, with no Retry-After: the source never exceeds a window,
waits for its reset, backs off 1 s doubling to 60 s on a 429, and reports the windows for `rate-limits`.
Fake and source share trio's virtual clock (autojump), so minutes pass instantly."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

import pytest
import trio

from halosync.plugin import RateLimited, serve
from halosync_lusha.client import backoff
from halosync_lusha.fake import FakeLusha
from halosync_lusha.plans import PLAN_LIMITS, PlanLimits
from halosync_lusha.source import LushaSource
from tests.lusha.conftest import KEY, LIST, pull_all, virtual_epoch

Start = Callable[..., Awaitable[LushaSource]]


@pytest.fixture
def start(nursery: trio.Nursery, make_source: Callable[..., LushaSource]) -> Start:
    async def start(fake: FakeLusha, **settings: object) -> LushaSource:
        url: str = await nursery.start(serve, fake)
        return make_source(base_url=url, clock=virtual_epoch, **settings)

    return start


def test_the_backoff_without_retry_after_is_1_s_doubling_to_60_s() -> None:
    assert [backoff(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff(3, base=0.5) == 4.0


def test_the_fake_presets_are_lushas_plans() -> None:
    assert PLAN_LIMITS["pro"] == PlanLimits(50, 150, 1_500)
    assert PLAN_LIMITS["premium"] == PlanLimits(300, 1_800, 18_000)
    assert PLAN_LIMITS["scale"] == PlanLimits(300, 5_000, 50_000)
    assert PLAN_LIMITS["legacy"] == PlanLimits(300, 600, 6_000)


async def test_a_pro_plans_50_a_minute_is_never_exceeded_and_the_poll_still_finishes(
        autojump_clock: trio.testing.MockClock, start: Start) -> None:
    fake = FakeLusha(clock=virtual_epoch, seed=3)
    fake.add_key(KEY, "pro")
    fake.create_list(LIST, 1_200)
    source = await start(fake, page_size=10)  # 120 requests: three minute windows at least
    began = trio.current_time()

    pulled = await pull_all(source)

    assert len(set(pulled.ids)) == 1_200
    answers = fake.requests_to(LIST)
    assert [r.status for r in answers if r.status != 200] == []  # not one 429
    per_minute = Counter(int((r.at - answers[0].at) // 60) for r in answers)
    assert max(per_minute.values()) <= 50
    assert trio.current_time() - began > 120


async def test_429s_without_retry_after_back_off_doubling(autojump_clock: trio.testing.MockClock,
                                                         start: Start) -> None:
    fake = FakeLusha(clock=virtual_epoch, seed=3)
    fake.add_key(KEY)
    fake.create_list(LIST, 30)
    fake.fail_next(429, {"error": {"code": 429, "message": "Rate limit exceeded"}}, times=4)
    source = await start(fake, backoff_base=1.0)

    pulled = await pull_all(source)

    assert len(pulled.ids) == 30
    assert source.client.pauses == [1.0, 2.0, 4.0, 8.0]


async def test_a_used_up_day_ends_the_pull_with_a_rate_limit_error_not_a_day_long_wait(
        autojump_clock: trio.testing.MockClock, start: Start) -> None:
    fake = FakeLusha(clock=virtual_epoch, seed=3)
    fake.add_key(KEY, PlanLimits(None, None, 3))
    fake.create_list(LIST, 100)
    source = await start(fake, page_size=20)

    with pytest.raises(RateLimited, match="day quota"):
        await pull_all(source)
    assert [r.status for r in fake.requests_to(LIST)] == [200, 200]  # the margin keeps one for other users


async def test_the_windows_are_reported_from_the_plan_then_from_lushas_headers(
        autojump_clock: trio.testing.MockClock, start: Start) -> None:
    fake = FakeLusha(clock=virtual_epoch, seed=3)
    fake.add_key(KEY, "premium")
    fake.create_list(LIST, 250)
    source = await start(fake, plan="premium")

    before = {w.window: w for w in source.rate_limits()}
    assert {w: (v.limit, v.remaining) for w, v in before.items()} == {
        "minute": (300, None), "hour": (1_800, None), "day": (18_000, None)}
    assert "plan premium" in before["day"].basis

    await pull_all(source)
    after = {w.window: w for w in source.rate_limits()}
    assert {w: (v.limit, v.used, v.remaining) for w, v in after.items()} == {
        "minute": (300, 3, 297), "hour": (1_800, 3, 1_797), "day": (18_000, 3, 17_997)}
    assert all(w.basis == "" and w.provider == "lusha" for w in after.values())
