"""HaloPSA instances whose limit is not 300 per 5 minutes: how much of their window halosync uses.

halosync starts at HaloPSA's documented 300 requests per rolling 5 minutes and learns the instance's real count
and window from its first 429. For each limit/window, a sustained write load (companies, 10 per POST, from two
workers as the engine runs them) against the fake HaloPSA answering after 20 ms, on a virtual clock (a run of
many windows takes seconds). Utilisation is how full the instance's rolling window was, averaged over the whole
windows after the first 429, from the fake's own request log; the 429 share counts every request. The last row
keeps the 5-minute window while learning only the count: the behaviour issue 13 reported (2 %).
"""

from __future__ import annotations

import math

import trio
import trio.testing

from halosync.contracts import WriteOp
from halosync_halopsa.fake import FakeHalo, FakeSettings, serve_fake
from halosync_halopsa.fake.state import LoggedRequest
from halosync_halopsa.settings import HaloSettings
from halosync_halopsa.sink import HaloSink
from tests.halopsa.leads import batches, company_ops, sample_leads

TITLE = "halopsa limits"
Row = tuple[str, float | int | str, str, str]
CASES = ((30, 10.0), (20, 5.0), (50, 15.0), (100, 60.0), (300, 300.0))
PER_POST = 10


def utilisation(log: list[LoggedRequest], limit: int, window: float) -> tuple[float, int]:
    """Mean fill of the rolling window over the whole windows from the first 429 (as tests/halopsa/test_budget)."""
    start = min((r.at for r in log if r.status == 429), default=log[0].at)
    accepted = [r.at for r in log if r.status != 429]
    windows = math.floor((max(accepted) - start) / window)
    if windows < 1:
        return 0.0, 0
    end = start + windows * window
    return sum(max(0.0, min(at + window, end) - max(at, start)) for at in accepted) / (limit * (end - start)), windows


async def _load(limit: int, window: float, windows: int, keep_window: bool) -> dict[str, float]:
    fake = FakeHalo(FakeSettings(rate_limit=limit, rate_window=window, latency=0.02))
    async with trio.open_nursery() as nursery:
        url = await nursery.start(serve_fake, fake)
        sink = HaloSink(HaloSettings(base_url=url, client_id="halosync", client_secret="fake-secret",
                                     batch_size=PER_POST,
                                     configured=frozenset({"window_seconds"}) if keep_window else frozenset()))
        ops = company_ops(sample_leads(windows * limit * PER_POST if not keep_window else 3 * limit * PER_POST, 1))
        started = trio.current_time()

        async def worker(mine: list[WriteOp]) -> None:
            for batch in batches(mine, PER_POST):
                await sink.write(batch)

        async with trio.open_nursery() as workers:
            workers.start_soon(worker, ops[::2])
            workers.start_soon(worker, ops[1::2])
        elapsed = trio.current_time() - started
        await sink.aclose()
        nursery.cancel_scope.cancel()
    share, whole = utilisation(fake.log, limit, window)
    return {"utilisation": share, "windows": whole, "refused": fake.count(status=429) / len(fake.log),
            "leads_per_s": len(fake.records("client")) / elapsed, "requests": len(fake.log)}


def _run(limit: int, window: float, windows: int, keep_window: bool = False) -> dict[str, float]:
    return trio.run(_load, limit, window, windows, keep_window, clock=trio.testing.MockClock(autojump_threshold=0.001))


def run(quick: bool) -> list[Row]:
    windows = 6 if quick else 20
    rows: list[Row] = []
    for limit, window in CASES:
        r = _run(limit, window, windows)
        name = f"{limit} per {window:g} s"
        rows += [
            (f"{name}: utilisation", round(r["utilisation"], 4), f"of {int(r['windows'])} windows", ">= 0.95"),
            (f"{name}: 429 share", round(r["refused"], 4), f"of {int(r['requests'])} requests", "<= 0.01"),
            (f"{name}: leads per s", round(r["leads_per_s"], 2), "leads/s", f"{PER_POST} per POST, virtual time"),
        ]
    old = _run(30, 10.0, windows, keep_window=True)
    rows.append(("30 per 10 s, count learned, 300 s window kept (the reported bug)", round(old["utilisation"], 4),
                 "utilisation", "what the fix removes"))
    return rows
