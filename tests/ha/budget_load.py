"""N HaloPSA clients, as N daemons run them, sharing one rolling window through a PostgreSQL store (issue 18).

Each "daemon" is a HaloSink with its own ``StoreBudgets`` (its own member id) over the one store, two workers
writing companies as fast as the window lets them, against the fake HaloPSA in process on real time (the
database's clock is real). Utilisation and the 429 share come from the fake's own request log.
"""

from __future__ import annotations

import trio

from halosync.contracts import WriteOp
from halosync.ha.windows import StoreBudgets
from halosync.store.gateway import Store
from halosync_halopsa.fake import FakeHalo, FakeSettings, serve_fake
from halosync_halopsa.settings import HaloSettings
from halosync_halopsa.sink import HaloSink
from tests.bench.bench_halopsa_limits import utilisation
from tests.halopsa.leads import batches, company_ops, sample_leads

PER_POST = 10


async def shared_window_load(url: str, daemons: int, limit: int, window: float, seconds: float,
                             shared: bool = True) -> dict[str, float]:
    store = Store(url, pool_size=2 * daemons + 2)
    await store.run(store.create_schema)
    fake = FakeHalo(FakeSettings(rate_limit=limit, rate_window=window, latency=0.02))
    try:
        async with trio.open_nursery() as nursery:
            halo_url = await nursery.start(serve_fake, fake)
            settings = HaloSettings(base_url=halo_url, client_id="halosync", client_secret="fake-secret",
                                    batch_size=PER_POST, requests_per_window=limit, window_seconds=window,
                                    configured=frozenset({"requests_per_window", "window_seconds"}))
            budgets = [StoreBudgets(store, f"bench:{n}:{n}") for n in range(daemons)]
            sinks = [HaloSink(settings, shared=b if shared else None) for b in budgets]
            for b in budgets:
                nursery.start_soon(b.run)
            ops = company_ops(sample_leads(int(limit * (seconds / window + 2)) * PER_POST, 1))
            started = trio.current_time()

            async def worker(sink: HaloSink, mine: list[WriteOp]) -> None:
                for batch in batches(mine, PER_POST):
                    await sink.write(batch)

            with trio.move_on_after(seconds):
                async with trio.open_nursery() as workers:
                    lanes = 2 * daemons
                    for n in range(lanes):
                        workers.start_soon(worker, sinks[n % daemons], ops[n::lanes])
            elapsed = trio.current_time() - started
            for sink in sinks:
                await sink.aclose()
            nursery.cancel_scope.cancel()
    finally:
        store.close()
    share, whole = utilisation(fake.log, limit, window)
    return {"utilisation": share, "windows": whole, "refused": fake.count(status=429) / max(1, len(fake.log)),
            "leads_per_s": len(fake.records("client")) / elapsed, "requests": len(fake.log)}
