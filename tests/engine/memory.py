"""A Source and a Sink kept in memory, implementing the Protocols, for engine tests that need failures on cue."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from halosync.config import loader
from halosync.contracts import (
    CheckResult,
    EntityKind,
    MirrorPage,
    RateWindow,
    SinkRecord,
    SourcePage,
    WriteOp,
    WriteResult,
)
from halosync.daemon.app import Daemon
from halosync.engine.component import EngineComponent
from halosync.errors import TransientProviderError
from halosync.model import Company, Lead, Person
from halosync.plugin import hookimpl
from halosync.plugin.host import LeadEvent, PluginHost
from halosync.plugin.manager import PluginManager


def lead(n: int, *, email: str | None = None, company: str = "Acme Inc", domain: str = "acme.com",
         title: str | None = "CTO", first: str | None = None) -> Lead:
    return Lead("mem", f"c{n}", Person(first_name=first or f"Person{n}", last_name="Test",
                                       email=email if email is not None else f"p{n}@{domain}", title=title),
                Company(name=company, domain=domain))


class MemorySource:
    name = "mem"

    def __init__(self, leads: Sequence[Lead] = (), page_size: int = 50) -> None:
        self.leads = list(leads)
        self.page_size = page_size

    async def pull(self, cursor: str | None, *, full: bool = False) -> AsyncIterator[SourcePage]:
        start = 0 if full or cursor is None else int(cursor)
        for at in range(start, len(self.leads), self.page_size):
            chunk = self.leads[at:at + self.page_size]
            yield SourcePage(chunk, str(at + len(chunk)))

    async def checks(self) -> list[CheckResult]:
        return []

    def rate_limits(self) -> list[RateWindow]:
        return []

    async def aclose(self) -> None:
        pass


@dataclass
class MemorySink:
    name: str = "memsink"
    batch_size: int = 10
    kinds: tuple[EntityKind, ...] = ("company", "person")
    records: dict[str, SinkRecord] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)  # idempotency key -> sink id (what find() answers)
    fail_calls: int = 0  # the next N write calls raise a retryable error
    lose_answers: int = 0  # the next N write calls do the work, then raise as a timeout would
    reject: set[str] = field(default_factory=set)  # emails (or company names) refused per record
    writes: list[tuple[str, str, int]] = field(default_factory=list)  # (kind, action, ops) per call
    find_calls: int = 0
    hang_after_write: bool = False  # do the work, then never answer (a crash in flight, when cancelled)
    wrote: Any = None  # a trio.Event set after a hanging write did its work
    ids: Any = field(default_factory=lambda: itertools.count(100))

    async def start(self) -> None:
        pass

    async def list_records(self, kind: EntityKind, *, since: str | None = None) -> AsyncIterator[MirrorPage]:
        yield MirrorPage([r for r in self.records.values() if r.kind == kind])

    async def write(self, ops: Sequence[WriteOp]) -> list[WriteResult]:
        self.writes.append((ops[0].kind, ops[0].action, len(ops)))
        if self.fail_calls:
            self.fail_calls -= 1
            raise TransientProviderError(self.name, "503 on purpose", status=503)
        out = []
        for op in ops:
            if op.fields.get("email") in self.reject or op.fields.get("name") in self.reject:
                out.append(WriteResult(op.key, error="refused on purpose"))
                continue
            sink_id = op.sink_id or str(next(self.ids))
            old = self.records.get(sink_id)
            fields = {**(old.fields if old else {}), **op.fields}
            self.records[sink_id] = SinkRecord(op.kind, sink_id, fields, op.parent_id or (old.parent_id if old
                                                                                             else None))
            self.by_key[op.key] = sink_id
            out.append(WriteResult(op.key, sink_id=sink_id))
        if self.hang_after_write:
            self.wrote.set()
            await trio.sleep_forever()
        if self.lose_answers:
            self.lose_answers -= 1
            raise TransientProviderError(self.name, "timed out on purpose")
        return out

    async def find(self, ops: Sequence[WriteOp]) -> list[SinkRecord | None]:
        self.find_calls += 1
        return [self.records.get(self.by_key.get(op.key, "")) for op in ops]

    async def fetch(self, kind: EntityKind, sink_ids: Sequence[str]) -> dict[str, SinkRecord]:
        return {s: self.records[s] for s in sink_ids if s in self.records}

    async def checks(self) -> list[CheckResult]:
        return []

    def rate_limits(self) -> list[RateWindow]:
        return []

    async def aclose(self) -> None:
        pass

    def count(self, kind: str) -> int:
        return sum(1 for r in self.records.values() if r.kind == kind)


class MemoryPlugin:
    def __init__(self, source: MemorySource, sink: MemorySink) -> None:
        self.source, self.sink = source, sink
        self.synced: list[LeadEvent] = []
        self.failed: list[LeadEvent] = []

    @hookimpl
    def halosync_sources(self, host: PluginHost) -> list[Any]:
        return [self.source]

    @hookimpl
    def halosync_sinks(self, host: PluginHost) -> list[Any]:
        return [self.sink]

    @hookimpl
    def halosync_lead_synced(self, event: LeadEvent) -> None:
        self.synced.append(event)

    @hookimpl
    def halosync_lead_failed(self, event: LeadEvent) -> None:
        self.failed.append(event)


def make_daemon(directory: Path, db_url: str, plugin: MemoryPlugin, *, once: bool = True, **sync: Any) -> Daemon:
    table = {"retry_base": 0.01, "retry_cap": 0.05, "max_attempts": 3, "interval": 3600, **sync}
    path = directory / "halosync.toml"
    path.write_text("\n".join([
        "[daemon]", f'state_dir = "{directory}"', "[database]", f'url = "{db_url}"', "[http]", 'listen = ""',
        "[sync]", *(f"{k} = {str(v).lower() if isinstance(v, bool) else v}" for k, v in table.items()),
    ]), encoding="utf-8")
    pm = PluginManager()
    pm.register(plugin, "memory")
    return Daemon(loader.load(path, pm.config_specs()), pm, once=once, components=[EngineComponent()])
