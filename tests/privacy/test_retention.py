"""Issue 16: retention prunes raw records, lineage, dead letters and handled webhook deliveries past their period,
in small batches, and `halosyncctl status` shows what it did."""

from __future__ import annotations

import time

import pytest
import trio

from halosync.control.server import ControlComponent
from halosync.engine.retention import RetentionComponent, RetentionSettings, prune_pass
from halosync.store.gateway import Store
from halosync.store.models import DeadLetter, LineageEvent, StagedLead, WebhookInbox
from tests.control.harness import restore_logging, running_daemon
from tests.waiting import until

DAY = 86_400.0
Capsys = pytest.CaptureFixture[str]
__all__ = ["restore_logging"]  # a fixture used by name


def seed_ages(now: float, tag: str = "") -> None:
    for n, (days, state) in enumerate([(40, "processed"), (35, "review"), (31, "suppressed"), (10, "processed"),
                                       (45, "pending")]):
        payload = {"source": "apollo", "source_id": f"{tag}{n}", "person": {"email": f"p{n}@x.example"},
                   "raw": {"id": str(n), "big": "x" * 100}}
        StagedLead.create(source="apollo", source_id=f"{tag}{n}", payload=payload, content_hash=f"h{n}", state=state,
                          processed_at=now - days * DAY)
    for days in (200, 190, 181, 100, 1):  # ids grow with time, as the engine writes them
        LineageEvent.create(source="apollo", source_id="0", at=now - days * DAY, stage="staged")
    for days in (120, 91, 30):
        DeadLetter.create(stage="intake", reason="bad", created_at=now - days * DAY, payload={"email": "x"})
    for n, (days, state) in enumerate([(60, "processed"), (50, "pending"), (40, "failed"), (5, "processed")]):
        WebhookInbox.create(plugin="hook", delivery_id=f"{tag}d{n}", body="{}", state=state,
                            received_at=now - days * DAY)


async def test_a_pass_prunes_what_is_past_its_period_and_nothing_else(db_url: str) -> None:
    store = Store(db_url)
    try:
        store.create_schema()
        now = time.time()
        store.call(seed_ages, now)
        pruned = await prune_pass(store, RetentionSettings(batch=2), now=now, pause=0)
        assert pruned == {"raw_records": 3, "lineage": 3, "dead_letters": 2, "webhook_inbox": 2}
        raw = store.call(lambda: {s.source_id: bool(s.payload["raw"]) for s in StagedLead.select()})
        assert raw == {"0": False, "1": False, "2": False, "3": True, "4": True}  # recent and pending keep theirs
        assert store.call(lambda: StagedLead.get(StagedLead.source_id == "0").payload["person"]) == {
            "email": "p0@x.example"}  # the canonical lead stays
        assert store.call(lambda: LineageEvent.select().count()) == 2
        assert store.call(lambda: DeadLetter.select().count()) == 1
        assert store.call(lambda: sorted(w.delivery_id for w in WebhookInbox.select())) == ["d1", "d3"]
        again = await prune_pass(store, RetentionSettings(batch=2), now=now, pause=0)
        assert again == dict.fromkeys(again, 0)
        # 0 keeps for ever
        store.call(seed_ages, now, "again-")
        kept = await prune_pass(store, RetentionSettings(0, 0, 0, 0), now=now, pause=0)
        assert kept == dict.fromkeys(kept, 0)
    finally:
        store.close()


async def test_status_shows_the_last_pass_and_the_next(capsys: Capsys, db_url: str, restore_logging: None) -> None:
    async with running_daemon(database_url=db_url, extra="[retention]\nlineage_days = 150\ninterval = 3600",
                              components=[ControlComponent(), RetentionComponent()]) as running:
        store = running.daemon.store
        await store.run(seed_ages, time.time())
        code, _, err = await running.ctl(capsys, "reload")  # a reload runs a pass at once (the first is a minute away)
        assert code == 0, err

        async def lineage() -> int:
            return await store.run(lambda: LineageEvent.select().count())

        with trio.fail_after(20):
            await until(lineage, lambda n: n == 2, what="lineage older than 150 days pruned")
            code, status = await running.ctl_json(capsys, "status")
            while not status.get("retention"):
                await trio.sleep(0.2)  # the snapshot behind status is at most a couple of seconds old
                code, status = await running.ctl_json(capsys, "status")
        retention = status["retention"]
        assert retention["ok"] and retention["keep_days"]["lineage"] == 150
        assert retention["next_run_at"] > time.time() + 3000
        code, out, _ = await running.ctl(capsys, "status")
        assert code == 0 and "retention" in out and "next pass" in out
