"""A real daemon (the engine) against both fakes, with the log captured: for tests that make a provider fail."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio
from loguru import logger

from halosync.cli.commands.demo import DemoFakes, demo_plugins, load_config, write_config
from halosync.daemon.app import Daemon
from halosync.engine.component import EngineComponent
from halosync.store.gateway import Store
from halosync.store.models import DeadLetter, Link, StagedLead
from tests.e2e.rig import served

# Fast retries so a test sees several failures in a second or two; a HaloPSA window of 5 s so that a 429's
# reset (which the daemon waits for) comes soon.
SYNC = {"interval": 3600, "retry_base": 0.2, "retry_cap": 1.0}
HALOPSA = {"timeout": 1.0, "max_retries": 1, "retry_base": 0.05, "retry_cap": 0.1, "requests_per_window": 10_000,
           "window_seconds": 5.0}


@dataclass
class FaultRig:
    fakes: DemoFakes
    directory: Path
    db_url: str
    apollo: dict[str, Any] = field(default_factory=dict)  # extra [plugins.apollo] keys
    lines: list[str] = field(default_factory=list)  # WARNING and above, as logged

    def daemon(self, *, once: bool) -> Daemon:
        path = write_config(self.directory, self.fakes.apollo_url, self.fakes.halo_url, sync=SYNC,
                            database_url=self.db_url, halopsa=HALOPSA)
        extra = "".join(f"{key} = {value}\n" for key, value in self.apollo.items())
        path.write_text(path.read_text(encoding="utf-8").replace("[plugins.apollo]\n", f"[plugins.apollo]\n{extra}"),
                        encoding="utf-8")
        plugins = demo_plugins()
        return Daemon(load_config(path, plugins), plugins, once=once, components=[EngineComponent()])

    async def serving(self, nursery: trio.Nursery) -> tuple[Daemon, trio.Event]:
        daemon = self.daemon(once=False)
        return daemon, await served(nursery, daemon)

    def failure_lines(self, plugin: str) -> list[str]:
        """The log lines saying ``plugin`` fails (the first, and any reminder)."""
        return [line for line in self.lines if line.startswith(f"{plugin}: ") and " failing: " in line]

    async def staged(self, daemon: Daemon) -> int:
        """Staged leads, read through the running daemon's own store (a second SQLite writer would contend)."""
        count: int = await daemon.store.run(lambda: StagedLead.select().count())
        return count

    def query(self, fn: Callable[[], Any]) -> Any:
        """Read the store once the daemon has stopped."""
        store = Store(self.db_url)
        try:
            return store.call(fn)
        finally:
            store.close()

    def delivered(self) -> dict[str, list[str]]:
        """real person -> the HaloPSA users its contacts are linked to"""
        links = self.query(lambda: {link.source_id: link.sink_id
                                    for link in Link.select().where(Link.kind == "person")})
        out: dict[str, list[str]] = {}
        for contact, person in self.fakes.apollo.truth.items():
            if contact in links:
                out.setdefault(person, [])
                if links[contact] not in out[person]:
                    out[person].append(links[contact])
        return out

    def assert_every_lead_delivered_once(self) -> None:
        people = set(self.fakes.apollo.truth.values())
        delivered = self.delivered()
        assert set(delivered) == people, f"{len(people - set(delivered))} people never reached HaloPSA"
        assert all(len(users) == 1 for users in delivered.values())
        assert len(self.fakes.halo.records("users")) == len(people), "a person became two HaloPSA users"
        assert self.query(lambda: DeadLetter.select().count()) == 0


@contextmanager
def captured(lines: list[str]) -> Iterator[None]:
    handler = logger.add(lambda message: lines.append(message.record["message"]), level="WARNING", format="{message}")
    try:
        yield
    finally:
        with suppress(ValueError):  # a reload's log.setup() has removed every handler already
            logger.remove(handler)

