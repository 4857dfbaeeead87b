"""The engine as a daemon component: started first, so front ends find ``daemon.engine`` ready (the daemon adopts
``EngineComponent.engine`` once this component has started)."""

from __future__ import annotations

from typing import Any

import trio

from halosync.engine import outbox
from halosync.engine.engine import Engine, EnginePorts


class EngineComponent:
    name = "engine"

    def __init__(self) -> None:
        self.engine: Engine | None = None

    async def run(self, daemon: EnginePorts, *, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        engine = self.engine = Engine(daemon)
        await engine.prepare()
        outbox.LIVE_WORKERS.add(engine.worker_id)
        try:
            async with trio.open_nursery() as nursery:
                engine.start(nursery)
                task_status.started()
        finally:
            outbox.LIVE_WORKERS.discard(engine.worker_id)

    async def drain(self, daemon: EnginePorts) -> None:
        if self.engine is not None:
            await self.engine.drain()
