"""A poller frozen between a page's fence and its commit (issue 18).

The page's transaction holds the lease row FOR SHARE from the fence to the commit. Frozen there (SIGSTOP, a VM
paused, a host cut off with its TCP connection up), it used to hold the row for as long as it stayed frozen, and
every standby's attempt to take the lapsed lease gave up on the row lock: nobody polled. The daemon's store asks
PostgreSQL to end its transactions whose client went quiet for one lease (``Store(idle_in_transaction=...)``), so
the standby takes over within two lease lengths, and the frozen page, waking, is refused: it never commits.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import peewee as pw
import pytest

from halosync.ha import leases
from halosync.store.gateway import Store
from tests.e2e.processes import daemon_env
from tests.waiting import until_sync

LEASE = 1.0
pytestmark = pytest.mark.postgres

# One page of a poller that holds the lease: the fence, then a pause before the commit, where the test stops it.
FROZEN_PAGE = textwrap.dedent("""
    import sys, time
    import trio
    from halosync.errors import StoreError
    from halosync.ha import leases
    from halosync.store.gateway import Store

    url, lease = sys.argv[1], float(sys.argv[2])
    store = Store(url, pool_size=1, idle_in_transaction=lease)
    epoch = store.call(leases.take, "source:apollo", "frozen:1:a", lease)

    def page():
        leases.fence("source:apollo", "frozen:1:a", epoch)
        print("fenced", flush=True)
        time.sleep(4 * lease)  # the test stops this process here; a SIGSTOP lands in this pause
        return "committed"

    try:
        print(trio.run(store.transaction, page), flush=True)
    except StoreError as exc:
        print("refused:", type(exc).__name__, exc, flush=True)
""")


def _take(store: Store) -> int | None:
    """The standby's attempt, as its lease round makes it: in a transaction, a row lock waited for a quarter lease
    (not granted in time: no lease this round)."""
    try:
        with store.db.atomic():
            return leases.take("source:apollo", "standby:2:b", LEASE)
    except pw.OperationalError as exc:
        if "lock timeout" in str(exc):
            return None
        raise


def test_a_standby_takes_over_from_a_poller_frozen_before_its_commit(pg_url: str) -> None:
    store = Store(pg_url, pool_size=1)
    store.create_schema()
    frozen = subprocess.Popen([sys.executable, "-c", FROZEN_PAGE, pg_url, str(LEASE)], env=daemon_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert frozen.stdout is not None
        assert frozen.stdout.readline().strip() == "fenced", frozen.stderr.read() if frozen.stderr else ""
        frozen.send_signal(signal.SIGSTOP)
        stopped_at = time.monotonic()
        epoch = until_sync(lambda: store.call(_take, store), lambda e: e is not None,
                           what="the standby taking the lapsed lease", within=4 * LEASE, step=0.05)
        took = time.monotonic() - stopped_at
        assert took < 2 * LEASE, f"took {took:.2f} s, lease {LEASE} s"
        assert epoch == 2  # the fencing token moved on
        frozen.send_signal(signal.SIGCONT)
        out, err = frozen.communicate(timeout=30)
        # Waking, the frozen page finds its transaction ended by the server, told as a connection lost (which
        # the daemon's loops wait out): nothing of it was committed.
        assert out.startswith("refused: StoreUnreachable database"), out + err
        assert "server closed the connection" in out and "rolls back what was not committed" in out, out
        rows = store.call(leases.view)[1]
        assert [(r.name, r.holder, r.epoch) for r in rows] == [("source:apollo", "standby:2:b", 2)]
    finally:
        if frozen.poll() is None:
            frozen.send_signal(signal.SIGCONT)
            frozen.kill()
        store.close()
