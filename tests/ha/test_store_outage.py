"""The store goes away under a running daemon: a PostgreSQL restart, a failover, a transaction the server ended.

The server ends every connection the daemon holds, over and over, while it syncs (``pg_terminate_backend``, as a
restart does: idle pooled connections and busy ones alike, at any statement, a commit included). The daemon keeps
running, says so in its log, and ends with each lead written once. Before, the first lost connection stopped it.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from halosync.engine.outbox import unfinished
from halosync.errors import StoreError, StoreUnreachable
from halosync.store.gateway import Store
from tests.ha.rig import Cluster, fakes
from tests.waiting import until_sync

pytestmark = pytest.mark.postgres


def _end_connections(admin: Store, application: str) -> int:
    """Ends every backend of the daemon (named by its application_name), as a server restart does."""
    cursor = admin.db.execute_sql(  # type: ignore[no-untyped-call]
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = %s AND pid <> pg_backend_pid()", (application,))
    return int(cursor.fetchone()[0])


def test_a_daemon_outlasts_the_server_ending_its_connections_while_it_syncs(tmp_path: Path, pg_url: str) -> None:
    application = f"halosync-outage-{uuid.uuid4().hex[:8]}"
    daemon_url = f"{pg_url}{'&' if '?' in pg_url else '?'}application_name={application}"
    admin = Store(pg_url, pool_size=1)
    with fakes(600, apollo_latency=0.1, halo_latency=0.05) as world:
        cluster = Cluster(tmp_path, daemon_url, world, 1, apollo={"per_page": 20}, sync={"batch_size": 10})
        daemon = cluster.daemons[0]
        try:
            cluster.start()
            people = world.people()
            ended, rounds, deadline = 0, 0, time.monotonic() + 90
            # A restart every half second until three quarters are written: the pull, the planner and the writers
            # all lose connections.
            while world.users() < people * 3 // 4 and time.monotonic() < deadline:
                ended += admin.call(_end_connections, admin, application)
                rounds += 1
                time.sleep(0.5)
            assert daemon.alive, daemon.tail()
            assert rounds >= 5 and ended >= 5, f"{ended} connection(s) ended in {rounds} round(s)"
            cluster.wait_all_written(people)
            until_sync(lambda: admin.call(unfinished), lambda left: left == 0, what="the outbox drained", within=60)
            assert world.users() == people, daemon.tail()  # each lead once: no write repeated after a lost commit
            assert daemon.alive
            log = daemon.log.read_text()
            assert "halosync stopped" not in log, log[-3000:]
            assert "the server ended this connection or cannot be reached" in log, log[-3000:]
            assert daemon.ctl("status")["state"] == "running"
        finally:
            cluster.close()
            admin.close()


def test_a_connection_the_server_ended_is_told_apart_from_other_store_errors(pg_url: str, tmp_path: Path) -> None:
    store = Store(pg_url, pool_size=2)
    try:
        with pytest.raises(StoreUnreachable, match="server ended this connection or cannot be reached"):
            store.call(lambda: store.db.execute_sql("SELECT pg_terminate_backend(pg_backend_pid())"))  # type: ignore[no-untyped-call]
        assert store.call(lambda: store.db.execute_sql("SELECT 1").fetchone()) == (1,)  # type: ignore[no-untyped-call]
    finally:
        store.close()
    unreachable = Store("postgresql://postgres@127.0.0.1:1/test", timeout=1.0)
    with pytest.raises(StoreUnreachable, match="connection"):
        unreachable.call(lambda: unreachable.db.execute_sql("SELECT 1"))  # type: ignore[no-untyped-call]
    sqlite = Store(f"sqlite:///{tmp_path / 'halosync.db'}")
    try:
        with pytest.raises(StoreError) as refused:
            sqlite.call(lambda: sqlite.db.execute_sql("SELECT * FROM no_such_table"))  # type: ignore[no-untyped-call]
        assert not isinstance(refused.value, StoreUnreachable)  # a fault to report, not an outage to wait out
    finally:
        sqlite.close()
