"""One daemon per SQLite store (issue 18): a second daemon on the same file is refused at start, and `halosync
diagnose` says so; on PostgreSQL it counts the daemons sharing the store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from halosync.cli.commands.demo import demo_plugins, load_config, write_config
from halosync.diagnose.database import database_checks
from tests.e2e.processes import daemon_env
from tests.ha.rig import Cluster, fakes
from tests.waiting import until_sync


def _check(config: Path) -> str:
    results = database_checks(load_config(config, demo_plugins()), 10.0)
    return next(r.message for r in results if r.name == "database.daemons")


@pytest.mark.slow
def test_a_second_daemon_on_one_sqlite_store_is_refused(tmp_path: Path) -> None:
    with fakes(20) as world:
        config = write_config(tmp_path, world.apollo_url, world.halo_url, log_level="info")
        log = tmp_path / "first.log"
        command = [sys.executable, "-m", "halosync.cli.main", "--config", str(config), "run"]
        with log.open("w") as stderr:
            first = subprocess.Popen(command, env=daemon_env(), stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            until_sync(log.read_text, lambda text: " running (store " in text, what="the first daemon running",
                       within=60)
            assert f"one daemon (pid {first.pid}) runs on this SQLite store" in _check(config)
            # The second one shares the state dir and the database; a control socket of its own.
            other = tmp_path / "second.toml"
            other.write_text(config.read_text().replace("control.sock", "control2.sock"))
            second = subprocess.run([*command[:3], "--config", str(other), "run"], env=daemon_env(),
                                    capture_output=True, text=True, timeout=60)
            assert second.returncode == 75  # EX_TEMPFAIL: try again once the first one stops
            assert f"another halosync daemon (pid {first.pid}) runs on the SQLite store" in second.stderr
            assert "PostgreSQL" in second.stderr
        finally:
            first.terminate()
            first.wait(timeout=30)
        assert "no daemon runs on this SQLite store" in _check(config)


@pytest.mark.postgres
@pytest.mark.slow
def test_diagnose_counts_the_daemons_sharing_a_postgresql_store(tmp_path: Path, pg_url: str) -> None:
    with fakes(20) as world:
        cluster = Cluster(tmp_path, pg_url, world, 2)
        try:
            cluster.start()
            poller = cluster.poller()
            message = until_sync(lambda: _check(cluster.daemons[0].config), lambda m: m.startswith("2 daemons"),
                                 what="diagnose counting two daemons", within=10)
            assert "share this PostgreSQL store (fine" in message
            assert f"pid {poller.pid} (polls apollo" in message and "standby" in message
        finally:
            cluster.close()
