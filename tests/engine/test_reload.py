"""A sink added by a configuration reload: its mirror is loaded before anything is matched for it, the leads staged
before it was added reach it too, and its own workers write to it, with no restart."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import trio

from halosync import hookimpl
from halosync.contracts import SinkRecord
from halosync.plugin.host import PluginHost
from tests.engine.memory import MemoryPlugin, MemorySink, MemorySource, lead, make_daemon
from tests.waiting import until


class GrowingPlugin(MemoryPlugin):
    """Offers the sinks in ``sinks``; a test appends one, then reloads."""

    def __init__(self, source: MemorySource, sink: MemorySink) -> None:
        super().__init__(source, sink)
        self.sinks = [sink]

    @hookimpl
    def halosync_sinks(self, host: PluginHost) -> list[Any]:
        return list(self.sinks)


async def test_a_sink_added_by_reload_is_matched_against_what_it_holds(tmp_path: Path, db_url: str) -> None:
    first = MemorySink()
    second = MemorySink(name="second")
    # The new sink already holds person 1 and the company: they must be adopted there, not created again.
    second.records["900"] = SinkRecord("company", "900", {"name": "Acme Inc", "domain": "acme.com"})
    second.records["901"] = SinkRecord("person", "901", {"first_name": "Person1", "last_name": "Test",
                                                         "email": "p1@acme.com"}, "900")
    plugin = GrowingPlugin(MemorySource(), first)
    daemon = make_daemon(tmp_path, db_url, plugin, once=False, mirror_refresh=3600)
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            await nursery.start(daemon.serve)
            engine = daemon.engine
            assert engine is not None
            await engine.stage("mem", [lead(0)])
            await until(lambda: first.count("person"), lambda n: n == 1, what="lead 0 written to the first sink")

            plugin.sinks.append(second)
            assert await daemon.reload()
            await engine.stage("mem", [lead(1), lead(2)])
            await until(lambda: (first.count("person"), second.count("person")), lambda n: n == (3, 3),
                        what="three people in each sink (first, second) after the reload")
            daemon.request_stop()
    assert (first.count("company"), first.count("person")) == (1, 3)
    # person 1 and the company were found in the new sink's mirror; person 0 (staged before the sink was added)
    # and person 2 are new there
    assert (second.count("company"), second.count("person")) == (1, 3)
    assert sorted(str(r.fields.get("email")) for r in second.records.values() if r.kind == "person") == [
        "p0@acme.com", "p1@acme.com", "p2@acme.com"]
    # nothing was written again to the first sink: planning lead 0 again found its records there
    assert [w for w in first.writes if w[1] == "update"] == []


def test_only_a_sink_new_to_the_store_sends_processed_leads_back_to_planning(db_url: str) -> None:
    from halosync.engine.backfill import note_sinks
    from halosync.store.gateway import Store
    from halosync.store.models import StagedLead

    store = Store(db_url)
    try:
        store.create_schema()
        for n in range(3):
            store.call(partial(StagedLead.create, source="mem", source_id=f"c{n}", payload={}, content_hash="h",
                               revision=1, state="processed"))

        def states() -> list[str]:
            return sorted(r.state for r in StagedLead.select())

        # A store without the record (new, or from an earlier version) starts it: nothing is planned again.
        assert store.call(note_sinks, ["halopsa"]) == ([], 0)
        assert store.call(note_sinks, ["halopsa"]) == ([], 0)  # a restart with the same sinks
        assert store.call(states) == ["processed"] * 3
        assert store.call(note_sinks, ["halopsa", "crm"]) == (["crm"], 3)
        assert store.call(states) == ["pending"] * 3
        store.call(lambda: StagedLead.update(state="processed").execute())
        assert store.call(note_sinks, ["crm"]) == ([], 0)  # a sink removed...
        assert store.call(note_sinks, ["crm", "halopsa"]) == (["halopsa"], 3)  # ...and back: it gets what it missed
    finally:
        store.close()
