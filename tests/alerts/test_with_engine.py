"""The alert rules reading the real sync engine over a real store: outbox rows waiting (no sink to write them)
and dead letters appearing become alerts."""

from __future__ import annotations

from pathlib import Path

import trio

from halosync.alerts.component import AlertsComponent
from halosync.config import loader
from halosync.daemon.app import Daemon
from halosync.engine.component import EngineComponent
from halosync.store.models import DeadLetter, Outbox
from tests.alerts.conftest import ReceiversPlugin, Recorder, plugin_manager, write_config
from tests.waiting import until


def pending_rows(n: int) -> None:
    for i in range(n):
        Outbox.create(key=f"k-{i}", sink="halopsa", kind="person", action="create", entity_id=i,
                      payload={"fields": {"email": f"p{i}@example.com"}}, state="pending", source="apollo",
                      source_id=str(i))


async def test_backlog_and_dead_letters_from_the_real_engine_fire(tmp_path: Path) -> None:
    recorder = Recorder()
    toml = ('[alerts.rules.queue_backlog]\nfor = 0\nreceivers = ["rec"]\n'
            '[alerts.rules.dead_letters_growing]\nreceivers = ["rec"]\n')
    pm = plugin_manager(ReceiversPlugin(recorder))
    config = loader.load(write_config(tmp_path, toml, alerts={"interval": 1}), pm.config_specs())
    daemon = Daemon(config, pm, components=[EngineComponent(), AlertsComponent()])
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.serve)
        try:
            await daemon.store.transaction(pending_rows, 150)
            await until(recorder.states, lambda s: ("queue_backlog", "firing", "warning") in s,
                        what="queue_backlog firing", within=60)
            await daemon.store.run(lambda: DeadLetter.create(stage="intake", source="apollo", source_id="x",
                                                             reason="no email or name", payload={}))
            await until(recorder.states, lambda s: ("dead_letters_growing", "firing", "warning") in s,
                        what="dead_letters_growing firing", within=60)
        finally:
            daemon.request_stop()
    [backlog] = [a for a in recorder.alerts if a.rule == "queue_backlog"]
    assert backlog.value == 150
