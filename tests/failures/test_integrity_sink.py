"""`integrity` asks HaloPSA within a bounded share of its request window, finds a link to a user deleted there,
and says why when it cannot ask."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import trio

from halosync.cli.commands.demo import DemoFakes
from halosync.inspect.integrity import SINK_SHARE, run_checks
from tests.failures.harness import FaultRig

LEADS = 1500


def _links_check(report: dict) -> dict:  # type: ignore[type-arg]
    return next(c for c in report["checks"] if c["name"] == "links_point_to_existing_records")


async def test_integrity_finds_a_deleted_user_within_its_share_of_the_budget(tmp_path: Path, db_url: str) -> None:
    fakes = DemoFakes.create(LEADS, seed=5, halo_rate=100_000, duplicate_share=0.0)
    fakes.halo.settings = dataclasses.replace(fakes.halo.settings, max_page_size=100)  # HaloPSA's real cap
    async with trio.open_nursery() as nursery:
        await fakes.serve(nursery)
        rig = FaultRig(fakes, tmp_path, db_url)
        with trio.fail_after(240):
            assert await rig.daemon(once=True).serve() in (0, 1)
        users = fakes.halo.records("users")
        assert len(users) > 1000
        gone = users[len(users) // 2]
        del fakes.halo.tables["users"].rows[gone["id"]]  # deleted by someone in HaloPSA
        daemon = rig.daemon(once=True)
        await daemon.store.run(daemon.store.create_schema)
        daemon._instantiate_plugins()
        sink = daemon.sinks["halopsa"]
        before = len(fakes.halo.log)
        with trio.fail_after(120):
            await sink.start()
            report = await run_checks(daemon.store, daemon.sinks, fetch_timeout=30.0)
        spent = len(fakes.halo.log) - before
        limit = sink.rate_limits()[0].limit
        assert limit is not None, "the HaloPSA sink reports no rate limit to budget against"
        budget = int(limit * SINK_SHARE)
        check = _links_check(report)
        assert not report["ok"]
        assert [d["sink_id"] for d in check["details"] if "sink_id" in d] == [str(gone["id"])]
        assert spent <= budget + 1, f"{spent} requests, budget {budget}"  # +1: the token
        assert any(f"of the budget of {budget} requests" in d.get("note", "") for d in check["details"])
        # The sink cannot answer: the reason is said, and the mirror (with its age) answers instead.
        fakes.halo.inject("500", times=1_000_000)
        report = await run_checks(daemon.store, daemon.sinks, fetch_timeout=30.0)
        notes = [d["note"] for d in _links_check(report)["details"] if "note" in d]
        said = [n for n in notes if "could not ask the sink (" in n and "HTTP 500" in n and "mirror refreshed" in n]
        assert said, notes
        await sink.aclose()
        daemon.store.close()
        nursery.cancel_scope.cancel()
