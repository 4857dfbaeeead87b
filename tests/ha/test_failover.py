"""Two and three real daemons on one PostgreSQL store (issue 18): one polls, the others stand by and take over.

Each test kills or stops the poller at a chosen moment and then checks what an operator would: another daemon
holds the lease within two lease lengths (a SIGTERM hands over at once), and the fake HaloPSA ends with exactly one
user per real person: nothing lost, nothing written twice.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.ha.rig import Cluster, fakes
from tests.waiting import until_sync

LEASE = 2.0
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_two_daemons_sigkill_of_the_poller_mid_pull(tmp_path: Path, pg_url: str) -> None:
    # 400 contacts in pages of 10, 0.15 s an answer: the pull lasts about 6 s, long enough to be cut in the middle.
    with fakes(400, apollo_latency=0.15) as world:
        cluster = Cluster(tmp_path, pg_url, world, 2, lease=LEASE, apollo={"per_page": 10})
        try:
            cluster.start()
            poller = cluster.poller()
            standby = next(d for d in cluster.daemons if d is not poller)
            # What an operator sees: the standby says it stands by, names the poller and its heartbeat.
            status = standby.ctl("status")["ha"]
            assert (status["role"], status["polls"], status["daemons"]) == ("standby", [], 2)
            assert status["leases"]["apollo"]["holder_pid"] == poller.pid
            assert [(o["pid"], o["polls"], o["state"]) for o in status["others"]] == [(poller.pid, ["apollo"],
                                                                                      "alive")]
            health = standby.ctl("health")["checks"]["ha"]
            assert health["role"] == "standby" and health["leases"]["apollo"]["holder_pid"] == poller.pid
            until_sync(world.apollo_searches, lambda n: n >= 3, what="the poller's pull under way", within=30,
                       step=0.02)
            searches_before_kill = world.apollo_searches()
            poller.kill()
            successor, took = cluster.wait_new_poller(poller)
            assert successor is standby
            assert took < 2 * LEASE, f"took {took:.2f} s to take over, lease {LEASE} s"
            cluster.wait_all_written(world.people())
            until_sync(cluster.outbox_left, lambda left: left == 0, what="the outbox drained", within=60)
            assert world.users() == world.people(), standby.tail()  # none lost, none twice
            # One poller at a time: after the kill, one full pull (74 searches for these 400 contacts in pages of
            # 10, as one daemon's `run --once` makes), not two side by side (148 and more).
            assert world.apollo_searches() - searches_before_kill <= 85, world.apollo_searches()
            assert "now polls apollo" in standby.log.read_text()
            assert standby.ctl("status")["ha"]["role"] == "poller"
        finally:
            cluster.close()


def test_three_daemons_sigkill_mid_write_then_sigterm_hands_over_at_once(tmp_path: Path, pg_url: str) -> None:
    # HaloPSA holds a third of its answers for a second: the fake counts those as writes in flight.
    with fakes(300, halo_latency=0.05, halo_args=("--slow-rate", "0.3", "--slow-seconds", "1.0")) as world:
        cluster = Cluster(tmp_path, pg_url, world, 3, lease=LEASE, sync={"batch_size": 5})
        try:
            cluster.start()
            poller = cluster.poller()
            until_sync(lambda: world.halo()["writes_in_flight"], lambda n: n > 0, what="a write in flight",
                       within=60, step=0.01)
            poller.kill()
            second, took = cluster.wait_new_poller(poller)
            assert took < 2 * LEASE, f"took {took:.2f} s to take over after SIGKILL, lease {LEASE} s"
            # A clean stop releases the lease at once: the third daemon takes over on its next look.
            assert second.terminate() == 0
            third, handed = cluster.wait_new_poller(second)
            assert third not in (poller, second)
            assert handed < LEASE / 2, f"took {handed:.2f} s after SIGTERM (lease {LEASE} s)"
            cluster.wait_all_written(world.people())
            until_sync(cluster.outbox_left, lambda left: left == 0, what="the outbox drained", within=90)
            assert world.users() == world.people(), third.tail()
            log = second.log.read_text()
            assert "released this daemon's leases" in log, log[-3000:]
        finally:
            cluster.close()


def test_a_poller_that_hangs_is_replaced_and_cannot_commit_when_it_wakes(tmp_path: Path, pg_url: str) -> None:
    """SIGSTOP, as a frozen VM or a host cut off: its pid lives, only the lease's lapse tells. When it wakes, the
    page it was staging is refused (the lease epoch moved on) and it stands by. Stopped between a page's fence and
    its commit, it holds the lease row locked; tests/ha/test_frozen_transaction.py stops it exactly there."""
    with fakes(400, apollo_latency=0.15) as world:
        cluster = Cluster(tmp_path, pg_url, world, 2, lease=LEASE, apollo={"per_page": 10})
        try:
            cluster.start()
            poller = cluster.poller()
            standby = next(d for d in cluster.daemons if d is not poller)
            until_sync(world.apollo_searches, lambda n: n >= 3, what="the poller's pull under way", within=30,
                       step=0.02)
            assert poller.proc is not None
            poller.proc.send_signal(signal.SIGSTOP)
            try:
                successor, took = cluster.wait_new_poller(poller)
            finally:
                poller.proc.send_signal(signal.SIGCONT)
            assert successor is standby
            assert LEASE * 0.5 < took < 2 * LEASE, f"took {took:.2f} s, lease {LEASE} s"
            until_sync(poller.log.read_text, lambda text: "lost the lease of apollo" in text,
                       what="the woken poller noticing it lost the lease", within=10)
            cluster.wait_all_written(world.people())
            until_sync(cluster.outbox_left, lambda left: left == 0, what="the outbox drained", within=60)
            assert world.users() == world.people(), standby.tail()
            assert cluster.poller_pid() == standby.pid  # the woken one did not take it back
            assert poller.ctl("status")["ha"]["role"] == "standby"
        finally:
            cluster.close()
