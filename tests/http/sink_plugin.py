"""A third-party-style sink plugin for listener tests: it records every call the daemon makes to it, so a test can
show that /health and /metrics never reach a provider."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from halosync.config.schema import PluginConfigSpec
from halosync.contracts import CheckResult, EntityKind, MirrorPage, RateWindow, SinkRecord, WriteOp, WriteResult
from halosync.plugin import hookimpl
from halosync.plugin.host import PluginHost

CALLS: list[str] = []


class RecordingSink:
    name = "testsink"
    batch_size = 10
    kinds: tuple[EntityKind, ...] = ("company", "person")

    async def start(self) -> None:
        CALLS.append("start")

    async def list_records(self, kind: EntityKind, *, since: str | None = None) -> AsyncIterator[MirrorPage]:
        CALLS.append("list_records")
        yield MirrorPage([])

    async def write(self, ops: Sequence[WriteOp]) -> list[WriteResult]:
        CALLS.append("write")
        return [WriteResult(op.key, sink_id=f"s-{op.key}") for op in ops]

    async def find(self, ops: Sequence[WriteOp]) -> list[SinkRecord | None]:
        CALLS.append("find")
        return [None for _ in ops]

    async def fetch(self, kind: EntityKind, sink_ids: Sequence[str]) -> dict[str, SinkRecord]:
        CALLS.append("fetch")
        return {}

    async def checks(self) -> list[CheckResult]:
        CALLS.append("checks")
        return []

    def rate_limits(self) -> list[RateWindow]:  # cached figures: not a provider call
        return [RateWindow("testsink", "rolling-300s", limit=300, used=12, remaining=288)]

    async def aclose(self) -> None:
        pass


@hookimpl
def halosync_config_spec() -> PluginConfigSpec:
    return PluginConfigSpec("testsink", {})


@hookimpl
def halosync_sinks(host: PluginHost) -> list[Any]:
    return [RecordingSink()] if host.settings("testsink") is not None else []
