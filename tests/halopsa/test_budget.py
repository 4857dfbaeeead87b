"""The budget HaloPSA's 429 text names: read whatever the wording, learned whole (count and window), configured
values winning, and the learned pace filling the instance's window without being refused again."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st
from loguru import logger

from halosync.contracts import WriteOp
from halosync_halopsa.budget import parse_budget
from halosync_halopsa.fake import FakeHalo, FakeSettings, serve_fake
from halosync_halopsa.fake.state import LoggedRequest
from halosync_halopsa.sink import HaloSink
from tests.halopsa.conftest import halo_settings
from tests.halopsa.leads import batches, company_ops, sample_leads

UNITS = {"second": 1, "minute": 60, "hour": 3600}


@pytest.mark.parametrize(("text", "expected"), [
    ("Rate Limit Reached - 300 Requests per rolling 5 minute window", (300, 300.0)),
    ("Rate Limit Reached - 30 Requests per rolling 10 second window", (30, 10.0)),
    ('"Rate Limit Reached - 30 Requests per rolling 10 second window"', (30, 10.0)),  # a JSON string body
    ("rate limit reached: 1 request per rolling hour", (1, 3600.0)),
    ("RATE LIMIT REACHED - 1,000 REQUESTS PER 2 HOURS", (1000, 7200.0)),
    ("500 requests per 5-minute window", (500, 300.0)),
    ("20 requests per 5 seconds", (20, 5.0)),
    ("50 Requests per rolling 15 secs window", (50, 15.0)),
    ("Too Many Requests", None),
    ("Rate Limit Reached", None),
    ("0 Requests per rolling 5 minute window", None),
    ("", None),
])
def test_the_budget_is_read_from_each_wording(text: str, expected: tuple[int, float] | None) -> None:
    assert parse_budget(text) == expected


@given(count=st.integers(1, 100_000), length=st.integers(1, 500), unit=st.sampled_from(sorted(UNITS)),
       plural=st.booleans(), rolling=st.booleans(), upper=st.booleans())
def test_any_count_and_window_spelled_any_way_reads_back(count: int, length: int, unit: str, plural: bool,
                                                         rolling: bool, upper: bool) -> None:
    text = (f"Rate Limit Reached - {count} Requests per {'rolling ' if rolling else ''}{length} "
            f"{unit}{'s' if plural else ''} window")
    assert parse_budget(text.upper() if upper else text) == (count, float(length * UNITS[unit]))


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    lines: list[str] = []
    handler = logger.add(lines.append, level="WARNING", format="{message}")
    yield lines
    logger.remove(handler)


def utilisation(log: list[LoggedRequest], limit: int, window: float) -> tuple[float, int]:
    """How full the instance's rolling window was, on average, over the whole windows from the first 429 on (by
    the fake's own clock): each accepted request fills one place for ``window`` seconds. Averaged over time, not
    counted in windows laid end to end, which would cut the bursts a rolling window paces into at arbitrary
    points. Answers the share, and how many whole windows it covers."""
    start = min(r.at for r in log if r.status == 429)
    accepted = [r.at for r in log if r.status != 429]
    windows = math.floor((max(accepted) - start) / window)
    end = start + windows * window
    filled = sum(max(0.0, min(at + window, end) - max(at, start)) for at in accepted)
    return filled / (limit * (end - start)), windows


async def write_companies(sink: HaloSink, count: int) -> None:
    """A sustained write load: ``count`` companies, one POST each, from two workers as the engine runs them."""
    ops = company_ops(sample_leads(count, 1))

    async def worker(mine: list[WriteOp]) -> None:
        for batch in batches(mine, 1):
            assert all(r.ok for r in await sink.write(batch)), batch

    async with trio.open_nursery() as workers:
        workers.start_soon(worker, ops[::2])
        workers.start_soon(worker, ops[1::2])


@pytest.fixture
def quick_clock() -> trio.testing.MockClock:
    """Virtual time as ``virtual_clock``, jumping after 1 ms of idleness: the fake and the sink share one trio
    loop, so loopback traffic never leaves it idle, and a run that waits for a slot before nearly every request
    takes a fifth of the real time."""
    return trio.testing.MockClock(autojump_threshold=0.001)


@pytest.mark.parametrize(("limit", "window"), [(30, 10.0), (20, 5.0), (50, 15.0)])
async def test_an_instance_with_another_limit_is_used_to_the_full(
    quick_clock: trio.testing.MockClock, nursery: trio.Nursery, warnings: list[str], limit: int, window: float
) -> None:
    # Each answer takes 2 ms (virtual): requests spread over the window, as they do against a real instance.
    fake = FakeHalo(FakeSettings(rate_limit=limit, rate_window=window, latency=0.002))
    sink = HaloSink(halo_settings(await nursery.start(serve_fake, fake), batch_size=1, max_retries=8))
    await write_companies(sink, 12 * limit)  # a dozen windows' worth

    assert len(fake.records("client")) == 12 * limit
    share, windows = utilisation(fake.log, limit, window)
    assert windows >= 10 and share >= 0.95, f"{share:.3f} of {windows} windows used"
    refused = fake.count(status=429)
    assert 1 <= refused <= 0.01 * len(fake.log), f"{refused} of {len(fake.log)} requests refused"
    shown = sink.rate_limits()[0]
    assert (shown.window, shown.limit) == (f"rolling-{window:g}s", limit)
    assert shown.basis.startswith("learned from a 429 at ")
    learned = [line for line in warnings if "learned the instance's limit" in line]
    assert len(learned) == 1 and f"now at most {limit} requests per {window:g} s" in learned[0]
    await sink.aclose()


async def test_the_plural_wording_teaches_the_same(virtual_clock: trio.testing.MockClock,
                                                   nursery: trio.Nursery) -> None:
    fake = FakeHalo(FakeSettings(rate_limit=10, rate_window=120.0, rate_text="plural"))
    sink = HaloSink(halo_settings(await nursery.start(serve_fake, fake), batch_size=1))
    await write_companies(sink, 40)
    assert fake.rate_message == "rate limit exceeded: 10 requests per 2 minutes"
    assert (sink.client.limiter.limit, sink.client.limiter.window) == (10, 120.0)
    assert fake.count(status=429) == 1
    await sink.aclose()


async def test_a_text_naming_no_budget_keeps_the_budget_and_says_so_once(
    virtual_clock: trio.testing.MockClock, nursery: trio.Nursery, warnings: list[str]
) -> None:
    fake = FakeHalo(FakeSettings(rate_limit=10, rate_window=5.0, rate_text="opaque"))
    sink = HaloSink(halo_settings(await nursery.start(serve_fake, fake), batch_size=1, max_retries=10,
                                  requests_per_window=15, window_seconds=5, configured=frozenset()))
    await write_companies(sink, 60)
    assert len(fake.records("client")) == 60
    assert fake.count(status=429) >= 1  # the count falls to what the window held; the window stays
    assert sink.client.limiter.window == 5.0 and sink.rate_limits()[0].basis == "default"
    unreadable = [line for line in warnings if "did not name the instance's limit" in line]
    assert len(unreadable) == 1 and "'Too Many Requests'" in unreadable[0]
    await sink.aclose()


async def test_configured_values_override_what_the_instance_says(
    virtual_clock: trio.testing.MockClock, nursery: trio.Nursery, warnings: list[str]
) -> None:
    # The operator leaves the rest of a 20-per-10 s budget to another integration: 8 per 10 s is halosync's.
    fake = FakeHalo(FakeSettings(rate_limit=20, rate_window=10.0))
    fake.inject("429", times=2)  # the other integration filled the window just now, twice
    sink = HaloSink(halo_settings(await nursery.start(serve_fake, fake), requests_per_window=8, window_seconds=10))
    await write_companies(sink, 10)
    assert (sink.client.limiter.limit, sink.client.limiter.window) == (8, 10.0)
    assert sink.rate_limits()[0].basis == "config"
    overridden = [line for line in warnings if "keeping the configured values" in line]
    assert len(overridden) == 1 and "admits 20 requests per 10 s, but plugins.halopsa sets 8 per 10 s" in overridden[0]
    await sink.aclose()


async def test_a_configured_count_with_the_window_learned(virtual_clock: trio.testing.MockClock,
                                                          nursery: trio.Nursery) -> None:
    fake = FakeHalo(FakeSettings(rate_limit=30, rate_window=10.0))
    sink = HaloSink(halo_settings(await nursery.start(serve_fake, fake), batch_size=1, requests_per_window=40,
                                  configured=frozenset({"requests_per_window"})))
    await write_companies(sink, 80)
    assert (sink.client.limiter.limit, sink.client.limiter.window) == (40, 10.0)
    assert sink.client.limiter.state().effective_limit <= 30  # the 429 still lowers what is sent
    assert sink.rate_limits()[0].basis.startswith("limit config, window learned from a 429 at ")
    await sink.aclose()
