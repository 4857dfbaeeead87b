"""Failover from a frozen poller (issue 18): two real daemons on a fresh PostgreSQL schema; the poller is stopped
(SIGSTOP, as a paused VM or a host cut off) at a random moment of a pull, which may be in the middle of a page's
transaction; the time until the standby holds the lease. Lease 2 s; target under 2 lease lengths, every time."""

from __future__ import annotations

import random
import signal
import statistics
import tempfile
import time
from pathlib import Path

from tests.bench.__main__ import Row
from tests.ha.rig import Cluster, fakes
from tests.pgschema import fresh_schema
from tests.waiting import until_sync

TITLE = "HA: a frozen poller"
LEASE = 2.0


def _one(chance: random.Random) -> float | None:
    with fresh_schema() as url, tempfile.TemporaryDirectory() as tmp, fakes(400, apollo_latency=0.15) as world:
        cluster = Cluster(Path(tmp), url, world, 2, lease=LEASE, apollo={"per_page": 10})
        try:
            cluster.start()
            poller = cluster.poller()
            assert poller.proc is not None
            until_sync(world.apollo_searches, lambda n: n >= 3, what="the pull under way", within=30, step=0.02)
            time.sleep(chance.uniform(0, 2))
            poller.proc.send_signal(signal.SIGSTOP)
            try:
                return cluster.wait_new_poller(poller, within=10 * LEASE)[1]
            except AssertionError:
                return None
            finally:
                poller.proc.send_signal(signal.SIGCONT)
        finally:
            cluster.close()


def run(quick: bool) -> list[Row]:
    chance = random.Random(18)
    runs = 3 if quick else 15
    took = [_one(chance) for _ in range(runs)]
    done = sorted(t for t in took if t is not None)
    rows: list[Row] = [("stopped at a random moment of a pull, taken over", f"{len(done)} of {runs}", "runs",
                        "all")]
    if done:
        rows += [("takeover, fastest", round(done[0], 2), "s", ""),
                 ("takeover, median", round(statistics.median(done), 2), "s", ""),
                 ("takeover, slowest", round(done[-1], 2), "s", f"< {2 * LEASE:g} (2 leases of {LEASE:g} s)")]
    return rows
