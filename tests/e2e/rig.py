"""The real daemon (engine only) wired to the in-process fakes of Apollo and HaloPSA, over real sockets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from halosync.cli.commands.demo import DemoFakes, demo_plugins, load_config, write_config
from halosync.daemon.app import Daemon
from halosync.engine.component import EngineComponent
from halosync.store.gateway import Store
from halosync.store.models import Link


@dataclass
class Rig:
    fakes: DemoFakes
    directory: Path
    db_url: str
    sync: dict[str, Any] = field(default_factory=dict)
    match: dict[str, Any] = field(default_factory=dict)

    def daemon(self, *, once: bool = True, **sync: Any) -> Daemon:
        plugins = demo_plugins()
        path = write_config(self.directory, self.fakes.apollo_url, self.fakes.halo_url,
                            sync={**self.sync, **sync}, match=self.match or None, database_url=self.db_url)
        return Daemon(load_config(path, plugins), plugins, once=once, components=[EngineComponent()])

    async def serving(self, nursery: trio.Nursery, **sync: Any) -> tuple[Daemon, trio.Event]:
        """A running daemon (not once) and an event set when its serve() has returned (plugins closed)."""
        daemon = self.daemon(once=False, **sync)
        return daemon, await served(nursery, daemon)

    async def run_once(self, **sync: Any) -> int:
        with trio.fail_after(60):
            return await self.daemon(**sync).serve()

    def links(self, kind: str) -> dict[str, str]:
        """source id -> sink id, read from the store."""
        store = Store(self.db_url)
        try:
            return dict(store.call(lambda: [(link.source_id, link.sink_id) for link in
                                            Link.select().where(Link.kind == kind)]))
        finally:
            store.close()

    def query(self, fn: Any) -> Any:
        store = Store(self.db_url)
        try:
            return store.call(fn)
        finally:
            store.close()

    def people_to_users(self) -> dict[str, set[str]]:
        """ground-truth person key -> the HaloPSA user ids its contacts are linked to"""
        links = self.links("person")
        out: dict[str, set[str]] = defaultdict(set)
        for contact_id, person in self.fakes.apollo.truth.items():
            if contact_id in links:
                out[person].add(links[contact_id])
        return out


def company_domains(contacts: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """contact id -> its company's domain (the generator's ground truth for companies)"""
    return {cid: c["organization"]["primary_domain"] for cid, c in contacts.items() if c.get("organization")}


async def served(nursery: trio.Nursery, daemon: Daemon) -> trio.Event:
    """Start ``daemon.serve()`` in ``nursery`` (returns once it is up); the event is set when serve() has returned."""
    finished = trio.Event()

    async def serve(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            await daemon.serve(task_status=task_status)
        finally:
            finished.set()

    await nursery.start(serve)
    return finished
