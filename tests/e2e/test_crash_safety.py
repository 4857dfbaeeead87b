"""Crash safety: a real `halosync run` is killed with SIGKILL at random points, again and again, and restarted.

The fakes run in their own processes (so they outlive every kill). At the end a `run --once` finishes the work;
then the fake HaloPSA must hold exactly one user per real person and one client per company: no lead lost, none
written twice (a write that reached HaloPSA just before a kill is found again, not repeated).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from halosync.cli.commands.demo import write_config
from tests.e2e.processes import daemon_env, get_json, start_fake, stop
from tests.e2e.torture import Torture, person_links, run_torture, wait_running

KILLS = 15
CONTACTS = 1000


@pytest.fixture
def fakes() -> Iterator[tuple[str, str]]:
    apollo, apollo_url = start_fake(["halosync_apollo.fake", "--port", "0", "--contacts", str(CONTACTS), "--seed", "3",
                                 "--unthrottled", "--api-key", "demo-key"])
    halo, halo_url = start_fake(["halosync_halopsa.fake", "--port", "0", "--rate", "100000/300", "--latency", "0.03"])
    try:
        yield apollo_url, halo_url
    finally:
        for proc in (apollo, halo):
            stop(proc)


@pytest.mark.slow
def test_sigkill_at_random_points_loses_and_duplicates_nothing(tmp_path: Path, fakes: tuple[str, str]) -> None:
    apollo_url, halo_url = fakes
    config = write_config(tmp_path, apollo_url, halo_url, sync={"batch_size": 25, "concurrency": 3},
                          log_level="info")
    rng = random.Random(20261129)
    command = [sys.executable, "-m", "halosync.cli.main", "--config", str(config), "run"]
    log = tmp_path / "daemon.log"
    for started in range(1, KILLS + 1):
        with log.open("a") as stderr:
            daemon = subprocess.Popen(command, env=daemon_env(), stdout=subprocess.DEVNULL, stderr=stderr)
            wait_running(log, started)
            time.sleep(rng.uniform(0.05, 1.2))  # a real process killed at a random moment: wall-clock time matters
            daemon.send_signal(signal.SIGKILL)
            daemon.wait(timeout=10)
    progress = get_json(f"{halo_url}/_fake/stats")["records"]["users"]
    assert progress > 0, "no user was written while the daemon was being killed:\n" + log.read_text()[-3000:]
    final = subprocess.run([*command, "--once"], env=daemon_env(), capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr[-2000:]

    truth: dict[str, str] = get_json(f"{apollo_url}/__admin/truth")
    records = get_json(f"{halo_url}/_fake/stats")["records"]
    people = set(truth.values())
    assert records["users"] == len(people)  # none lost, none twice
    links = person_links(tmp_path)
    users_of: dict[str, set[str]] = defaultdict(set)
    for contact_id, person in truth.items():
        users_of[person].add(links[contact_id])
    assert all(len(u) == 1 for u in users_of.values())
    assert len({next(iter(u)) for u in users_of.values()}) == len(people)


@pytest.mark.slow
def test_kills_aimed_at_writes_in_flight_with_linkedin_only_people_double_nobody(tmp_path: Path) -> None:
    """The torture run in small (``python -m tests.bench torture`` does 50 kills): people without e-mail, later
    duplicates of them pulled after their create may be in doubt, and kills while HaloPSA holds a write's answer."""
    outcome = run_torture(tmp_path, Torture(kills=8, contacts=120))
    assert outcome.in_flight_kills >= 3, "too few kills landed on a write in flight to show anything"
    assert outcome.final_exit == 0, outcome.problems
    assert (outcome.lost, outcome.duplicated) == (0, 0), outcome.problems
    assert outcome.users == outcome.people
