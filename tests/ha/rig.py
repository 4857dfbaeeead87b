"""Several real `halosync run` processes on one PostgreSQL store, against the fakes in their own processes: as
an MSP runs them on two or three hosts (here one host, each daemon with its own state dir and control socket).

Used by tests/ha and by ``python -m tests.bench ha``. What a test asks of the daemons it reads where an operator
would: the lease rows in the store (who polls), the fakes' own counts (what reached Apollo and HaloPSA).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halosync.cli.commands.demo import write_config
from halosync.ha import leases
from halosync.store.gateway import Store
from tests.e2e.processes import daemon_env, get_json, start_fake, stop
from tests.e2e.torture import post_json
from tests.waiting import until_sync


@dataclass
class Fakes:
    apollo_url: str
    halo_url: str
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def people(self) -> int:
        truth: dict[str, str] = get_json(f"{self.apollo_url}/__admin/truth")
        return len(set(truth.values()))

    def halo(self) -> dict[str, Any]:
        stats: dict[str, Any] = get_json(f"{self.halo_url}/_fake/stats")
        return stats

    def users(self) -> int:
        return int(self.halo()["records"]["users"])

    def apollo_searches(self) -> int:
        """contacts/search requests Apollo answered (any status)."""
        stats = get_json(f"{self.apollo_url}/__admin/stats")
        by_endpoint = stats.get("requests", {}).get("contacts/search", {})
        return int(sum(by_endpoint.values())) if isinstance(by_endpoint, dict) else int(by_endpoint or 0)


@contextmanager
def fakes(contacts: int, *, apollo_latency: float = 0.0, halo_rate: str = "100000/300",
          halo_latency: float = 0.02, seed: int = 18, halo_args: tuple[str, ...] = ()) -> Iterator[Fakes]:
    apollo, apollo_url = start_fake(["halosync_apollo.fake", "--port", "0", "--contacts", str(contacts), "--seed",
                                     str(seed), "--unthrottled", "--api-key", "demo-key", "--latency",
                                     str(apollo_latency)])
    halo, halo_url = start_fake(["halosync_halopsa.fake", "--port", "0", "--rate", halo_rate, "--latency",
                                 str(halo_latency), *halo_args])
    try:
        yield Fakes(apollo_url, halo_url, [apollo, halo])
    finally:
        for proc in (apollo, halo):
            stop(proc)


@dataclass
class Daemon:
    name: str
    directory: Path
    config: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.directory / "daemon.log"

    def start(self) -> None:
        command = [sys.executable, "-m", "halosync.cli.main", "--config", str(self.config), "run"]
        with self.log.open("a") as stderr:
            self.proc = subprocess.Popen(command, env=daemon_env(), stdout=subprocess.DEVNULL, stderr=stderr)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, within: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=within)

    def ctl(self, *args: str) -> Any:
        """``halosyncctl --config ... ARGS --json``, as an operator runs it: the JSON it prints."""
        import json

        done = subprocess.run([sys.executable, "-m", "halosync.cli.ctl", "--config", str(self.config), *args,
                               "--json"], env=daemon_env(), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text()[-chars:] if self.log.exists() else ""


class Cluster:
    """``n`` daemons sharing the store at ``url``; ``lease`` seconds of poller lease."""

    def __init__(self, root: Path, url: str, fakes: Fakes, n: int, *, lease: float = 2.0,
                 sync: dict[str, Any] | None = None, halopsa: dict[str, Any] | None = None,
                 apollo: dict[str, Any] | None = None) -> None:
        self.url, self.fakes, self.lease = url, fakes, lease
        self.store = Store(url)
        self.daemons: list[Daemon] = []
        for i in range(n):
            directory = root / f"daemon{i + 1}"
            directory.mkdir(parents=True, exist_ok=True)
            config = write_config(directory, fakes.apollo_url, fakes.halo_url, database_url=url, log_level="info",
                                  sync={"batch_size": 25, "concurrency": 2, "interval": 3600, "retry_base": 0.2,
                                        "retry_cap": 2.0, "request_timeout": 5.0, **(sync or {})},
                                  halopsa=halopsa)
            text = config.read_text()
            if apollo:
                text = text.replace("[plugins.halopsa]", "".join(f"{k} = {v!r}\n".replace("'", '"')
                                                                  for k, v in apollo.items()) + "\n[plugins.halopsa]")
            config.write_text(text + f"\n[ha]\nlease_seconds = {lease}\n")
            self.daemons.append(Daemon(f"daemon{i + 1}", directory, config))

    def start(self) -> None:
        for daemon in self.daemons:
            daemon.start()
        for daemon in self.daemons:
            until_sync(lambda d=daemon: d.log.read_text() if d.log.exists() else "",  # type: ignore[misc]
                       lambda text: " running (store " in text, what=f"{daemon.name} running", within=60,
                       step=0.05)

    def close(self) -> None:
        for daemon in self.daemons:
            if daemon.alive:
                daemon.kill()
        self.store.close()

    def view(self) -> tuple[float, list[leases.Lease], list[leases.Member]]:
        return self.store.call(leases.view)

    def poller_pid(self, source: str = "apollo") -> int | None:
        """The pid of the daemon holding ``source``'s lease now (unlapsed), or None."""
        now, lease_rows, members = self.view()
        pids = {m.id: m.pid for m in members}
        for lease in lease_rows:
            if lease.name == f"source:{source}" and lease.holder and lease.expires_at > now:
                return pids.get(lease.holder, int(lease.holder.split(":")[1]))
        return None

    def poller(self, source: str = "apollo") -> Daemon:
        pid = until_sync(lambda: self.poller_pid(source), lambda p: p is not None, what=f"a poller of {source}",
                         within=30, step=0.05)
        return next(d for d in self.daemons if d.alive and d.pid == pid)

    def wait_new_poller(self, old: Daemon, source: str = "apollo", within: float = 30) -> tuple[Daemon, float]:
        """The daemon that took over from ``old``, and the seconds it took from now."""
        started = time.monotonic()
        pid = until_sync(lambda: self.poller_pid(source), lambda p: p is not None and p != old.pid,
                         what=f"another daemon taking over {source}", within=within, step=0.02)
        return next(d for d in self.daemons if d.pid == pid), time.monotonic() - started

    def wait_all_written(self, people: int, within: float = 120) -> None:
        until_sync(self.fakes.users, lambda users: users >= people, what=f"{people} HaloPSA users", within=within,
                   step=0.1)

    def outbox_left(self) -> int:
        from halosync.engine.outbox import unfinished

        return self.store.call(unfinished)


def generate(apollo_url: str, count: int, seed: int) -> None:
    post_json(f"{apollo_url}/__admin/generate", {"count": count, "seed": seed})
