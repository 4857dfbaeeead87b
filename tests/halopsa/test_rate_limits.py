"""The rolling-window budget: a storm of 429s from an instance stricter than configured ends with every record
written, and with no more than one 429 per window."""

from __future__ import annotations

import itertools

import pytest
import trio.testing

from halosync.contracts import WriteOp
from halosync.errors import RateLimited
from halosync.provider.circuit import CircuitOpen
from halosync_halopsa.fake import FakeHalo, FakeSettings, serve_fake
from halosync_halopsa.sink import HaloSink
from tests.halopsa.conftest import halo_settings
from tests.halopsa.leads import batches, company_ops, person_ops, sample_leads

WINDOW = 2.0


async def test_429_storm_ends_with_every_record_written_and_one_429_per_window(
    virtual_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    # The instance allows 10 requests per 2 s; halosync was told 100 (another integration takes the rest).
    fake = FakeHalo(FakeSettings(rate_limit=10, rate_window=WINDOW, latency=0.05))
    url = await nursery.start(serve_fake, fake)
    sink = HaloSink(halo_settings(url, requests_per_window=100, window_seconds=WINDOW, batch_size=5, max_retries=8))
    leads = sample_leads(100, 3)
    cops = company_ops(leads)
    company_ids = await two_workers(sink, cops)
    people = await two_workers(sink, person_ops(leads, {op.key[2:]: company_ids[op.key] for op in cops}))
    await sink.aclose()

    assert len(people) == 300
    assert len(fake.records("client")) == 100 and len(fake.records("users")) == 300  # nothing twice
    refusals = sorted(r.at for r in fake.log if r.status == 429)
    assert refusals, "the storm never happened: the test proves nothing"
    gaps = [later - earlier for earlier, later in itertools.pairwise(refusals)]
    assert all(gap >= WINDOW for gap in gaps), f"more than one 429 in a window: {refusals}"
    # The budget learned from the first 429 keeps the rest of the run under the instance's limit; it is probed
    # upwards again only after three clean windows.
    assert len(refusals) <= 1 + (fake.log[-1].at - refusals[0]) / (3 * WINDOW)


async def two_workers(sink: HaloSink, ops: list[WriteOp]) -> dict[str, str]:
    """Write ``ops`` in batches of 5 from two concurrent workers, as the engine does; answer the sink ids."""
    done: dict[str, str] = {}

    async def worker(mine: list[WriteOp]) -> None:
        for batch in batches(mine, 5):
            results = await sink.write(batch)
            assert all(r.ok for r in results), results
            done.update({r.key: str(r.sink_id) for r in results})

    async with trio.open_nursery() as workers:
        workers.start_soon(worker, ops[::2])
        workers.start_soon(worker, ops[1::2])
    return done


async def test_refusals_past_the_retry_bound_say_when_to_come_back(fake: FakeHalo, halo_url: str) -> None:
    sink = HaloSink(halo_settings(halo_url, max_retries=2))
    await sink.start()
    fake.inject("429", method="POST", route="/api/client", times=3)
    with pytest.raises(RateLimited) as caught:
        await sink.write(company_ops(sample_leads(2, 1)))
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 300
    assert "Rate Limit Reached" in str(caught.value) and fake.records("client") == []
    await sink.aclose()


async def test_a_request_cancelled_midway_gives_its_slot_back(
    virtual_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    fake = FakeHalo()
    sink = HaloSink(halo_settings(await nursery.start(serve_fake, fake), requests_per_window=4, window_seconds=10))
    await sink.start()  # authinfo and token: two of the four
    fake.inject("hang", method="GET")
    with trio.move_on_after(1.0):  # the daemon's own deadline, say
        await sink.fetch("company", ["1"])
    await trio.sleep(10.0)  # the window passes
    started = trio.current_time()
    for _ in range(4):
        await sink.fetch("company", ["1"])
    assert trio.current_time() == started  # the whole budget is there again: nothing leaked
    await sink.aclose()


async def test_an_instance_that_keeps_failing_is_left_alone_for_a_while(
    virtual_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    fake = FakeHalo()
    sink = HaloSink(halo_settings(await nursery.start(serve_fake, fake), max_retries=10, retry_cap=1.0))
    await sink.start()
    fake.inject("503", method="GET", times=50)
    with pytest.raises(CircuitOpen, match="5 requests in a row failed"):
        await sink.fetch("company", ["1"])
    assert fake.count(status=503) == 5  # not 11: the breaker stopped the retries
    await trio.sleep(30)
    fake.faults.clear()  # the instance recovers; one trial call closes the circuit
    assert await sink.fetch("company", ["1"]) == {}
    assert sink.client.breaker.state == "closed"
    await sink.aclose()
