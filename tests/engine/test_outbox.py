"""The outbox state machine through the real engine and store, with an in-memory sink that fails on cue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from halosync.contracts import SinkRecord
from halosync.engine.conflict import ConflictPolicy
from halosync.store.gateway import Store
from halosync.store.models import KV, DeadLetter, LineageEvent, Link, Outbox
from tests.engine.memory import MemoryPlugin, MemorySink, MemorySource, lead, make_daemon
from tests.waiting import until


def rows(db_url: str, fn):  # type: ignore[no-untyped-def]
    store = Store(db_url)
    try:
        return store.call(fn)
    finally:
        store.close()


async def run_once(tmp_path: Path, db_url: str, plugin: MemoryPlugin, **sync: Any) -> int:
    with trio.fail_after(30):
        return await make_daemon(tmp_path, db_url, plugin, **sync).serve()


async def test_retryable_failures_are_retried_then_written(tmp_path: Path, db_url: str) -> None:
    sink = MemorySink(fail_calls=2)
    plugin = MemoryPlugin(MemorySource([lead(n) for n in range(5)]), sink)
    assert await run_once(tmp_path, db_url, plugin) == 0
    assert (sink.count("company"), sink.count("person")) == (1, 5)
    attempts = rows(db_url, lambda: sorted({o.attempts for o in Outbox.select()}))
    assert max(attempts) >= 2 and rows(db_url, lambda: DeadLetter.select().count()) == 0
    people = {sink.records[link_id].parent_id for link_id in
              rows(db_url, lambda: [x.sink_id for x in Link.select().where(Link.kind == "person")])}
    assert people == {next(r.sink_id for r in sink.records.values() if r.kind == "company")}


async def test_a_refused_record_is_a_dead_letter_at_once_and_the_rest_flows(tmp_path: Path, db_url: str) -> None:
    sink = MemorySink(reject={"p2@acme.com"})
    plugin = MemoryPlugin(MemorySource([lead(n) for n in range(5)]), sink)
    assert await run_once(tmp_path, db_url, plugin) == 1  # a lead failed for good
    dead = rows(db_url, lambda: [(d.stage, d.source_id, d.attempts, d.reason) for d in DeadLetter.select()])
    assert len(dead) == 1 and dead[0][:3] == ("write", "c2", 1) and "refused on purpose" in dead[0][3]
    assert sink.count("person") == 4
    assert [e.source_id for e in plugin.failed] == ["c2"]
    assert {e.outcome for e in plugin.synced} == {"created"}
    trace = rows(db_url, lambda: [e.stage for e in LineageEvent.select().where(LineageEvent.source_id == "c2")
                                  .order_by(LineageEvent.id)])
    assert trace[:3] == ["staged", "matched", "planned"] and trace[-1] == "dead"


async def test_attempts_exhausted_dead_letters_the_company_and_its_people(tmp_path: Path, db_url: str) -> None:
    sink = MemorySink(fail_calls=1000)
    plugin = MemoryPlugin(MemorySource([lead(n) for n in range(3)]), sink)
    assert await run_once(tmp_path, db_url, plugin, max_attempts=3) == 1
    dead = rows(db_url, lambda: sorted((d.payload["kind"], d.attempts) for d in DeadLetter.select()))
    assert dead == [("company", 3), ("person", 0), ("person", 0), ("person", 0)]
    assert rows(db_url, lambda: Outbox.select().where(Outbox.state != "dead").count()) == 0


async def test_a_lost_answer_is_found_again_not_written_twice(tmp_path: Path, db_url: str) -> None:
    sink = MemorySink(lose_answers=2)
    plugin = MemoryPlugin(MemorySource([lead(n) for n in range(4)]), sink)
    assert await run_once(tmp_path, db_url, plugin) == 0
    assert (sink.count("company"), sink.count("person")) == (1, 4)
    assert sink.find_calls >= 1
    found = rows(db_url, lambda: [e.detail["outcome"] for e in LineageEvent.select().where(
        LineageEvent.stage == "write")])
    assert "found" in found


async def test_writes_in_flight_at_a_crash_are_reconciled_after_restart(tmp_path: Path, db_url: str) -> None:
    sink = MemorySink(hang_after_write=True, wrote=trio.Event())
    plugin = MemoryPlugin(MemorySource([lead(n) for n in range(3)]), sink)
    with trio.move_on_after(20):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(make_daemon(tmp_path, db_url, plugin, once=False).serve)
            await sink.wrote.wait()
            nursery.cancel_scope.cancel()  # the process dies: nothing after the write is recorded
    assert sink.count("company") == 1
    assert rows(db_url, lambda: Outbox.select().where(Outbox.state == "in_flight").count()) == 1
    sink.hang_after_write = False
    assert await run_once(tmp_path, db_url, plugin) == 0
    assert (sink.count("company"), sink.count("person")) == (1, 3)  # the company was found, not created again


async def test_pause_holds_writes_and_resume_releases_them(tmp_path: Path, db_url: str) -> None:
    sink = MemorySink()
    plugin = MemoryPlugin(MemorySource(), sink)
    store = Store(db_url)
    store.create_schema()
    store.call(lambda: KV.create(key="paused", value=True))  # paused before the daemon starts, as after a restart
    store.close()
    daemon = make_daemon(tmp_path, db_url, plugin, once=False)
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            await nursery.start(daemon.serve)
            engine = daemon.engine
            assert engine is not None and engine.paused
            assert await engine.stage("mem", [lead(n) for n in range(3)]) == 3  # webhooks are still accepted
            assert await engine.stage("mem", [lead(n) for n in range(3)]) == 0  # unchanged: not again
            await until(engine.queue, lambda q: q["pending"] >= 2, what="two writes pending while paused")
            assert sink.writes == []
            engine.set_concurrency(4)
            engine.resume()
            await until(engine.totals, lambda t: t["created"] >= 3, what="three records created after resume")
            assert sink.count("person") == 3
            assert (await engine.totals())["created"] == 3
            daemon.request_stop()
    assert rows(db_url, lambda: KV.get(KV.key == "paused").value) is False


async def test_sink_deletions_unlink_and_a_later_change_creates_again(tmp_path: Path, db_url: str) -> None:
    sink = MemorySink()
    source = MemorySource([lead(1)])
    plugin = MemoryPlugin(source, sink)
    assert await run_once(tmp_path, db_url, plugin) == 0
    person_id = next(r.sink_id for r in sink.records.values() if r.kind == "person")
    daemon = make_daemon(tmp_path, db_url, plugin, once=False)
    del sink.records[person_id]  # deleted in the sink, which then says so (before: the mirror's own refresh
    async with trio.open_nursery() as nursery:  # could list the record again after the notice, and keep it)
        await nursery.start(daemon.serve)
        assert daemon.engine is not None
        await daemon.engine.apply_mirror_records("memsink", [SinkRecord("person", person_id, {}, deleted=True)])
        daemon.request_stop()
    assert rows(db_url, lambda: Link.select().where(Link.kind == "person").count()) == 0
    source.leads.append(lead(1, title="CEO"))  # changed in the source after the cursor
    assert await run_once(tmp_path, db_url, plugin) == 0
    assert sink.count("person") == 1 and person_id not in sink.records


def test_conflict_strategies() -> None:
    policy = ConflictPolicy.from_config({"default": "fill_empty", "person.title": "source_wins",
                                         "person.phone": "sink_wins", "person.city": "newest_wins"})
    sink = {"title": "CTO", "phone": "", "city": "Old", "email": "a@x.com", "mobile": "1"}
    source = {"title": "CEO", "phone": "2", "city": "New", "email": "a@x.com", "mobile": "3", "state": "NY",
              "country": ""}
    assert policy.diff("person", source, sink) == {"title": ["CTO", "CEO"], "state": [None, "NY"]}
    assert policy.diff("person", source, sink, source_newer=True)["city"] == ["Old", "New"]
    assert policy.diff("person", sink, sink) == {}
