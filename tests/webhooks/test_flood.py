"""Webhooks with the real sync engine and the fake HaloPSA over real sockets: a flood while the engine is paused is
all stored and staged, nothing is written to the sink until resume, then every lead reaches it. Bad deliveries
become dead letters with their reason and do not hold up the others."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import trio

from halosync.cli.commands.demo import DemoFakes, write_config
from halosync.engine.component import EngineComponent
from halosync.store.models import StagedLead
from tests.engine.paused import declined_while_paused
from tests.http.harness import SECRET, Running, running_daemon
from tests.waiting import until

FLOOD = 200


def api_writes(fakes: DemoFakes) -> int:
    return sum(1 for r in fakes.halo.log if r.method == "POST" and r.route.startswith("/api/"))


@asynccontextmanager
async def engine_daemon(tmp_path: Path) -> AsyncIterator[tuple[Running, DemoFakes]]:
    import halosync_apollo.plugin
    import halosync_builtin.matcher
    import halosync_halopsa.plugin

    fakes = DemoFakes.create(0, seed=5, halo_rate=100_000)
    async with trio.open_nursery() as nursery:
        await fakes.serve(nursery)
        text = write_config(tmp_path, fakes.apollo_url, fakes.halo_url, sync={"interval": 3600}).read_text()
        text = text.replace('listen = ""', 'listen = "127.0.0.1:0"')
        text += f'\n[plugins.webhook]\nsecrets = ["{SECRET}"]\nsource = "pushed"\n'
        plugins = [("apollo", halosync_apollo.plugin), ("halopsa", halosync_halopsa.plugin),
                   ("match", halosync_builtin.matcher)]
        async with running_daemon(tmp_path, text, plugins=plugins, components=[EngineComponent()]) as running:
            yield running, fakes
        nursery.cancel_scope.cancel()


def lead(i: int) -> dict[str, object]:
    person = {"first_name": f"Flo{i}", "last_name": "Od", "email": f"flo{i}@corp{i}.example", "title": "CTO"}
    return {"id": f"push-{i}", "person": person, "company": {"name": f"Corp {i}", "domain": f"corp{i}.example"}}


async def staged(running: Running) -> int:
    return await running.daemon.store.run(lambda: StagedLead.select().where(StagedLead.source == "pushed").count())


async def test_flood_while_paused_is_stored_staged_and_written_after_resume(tmp_path: Path) -> None:
    async with engine_daemon(tmp_path) as (running, fakes):
        engine = running.daemon.engine
        assert engine is not None
        engine.pause()
        statuses: list[int] = []
        senders = trio.CapacityLimiter(32)

        async def send(i: int) -> None:
            async with senders:
                statuses.append((await running.deliver(lead(i), delivery_id=f"flood-{i}")).status_code)

        async with trio.open_nursery() as nursery:
            for i in range(FLOOD):
                nursery.start_soon(send, i)
        assert statuses == [202] * FLOOD
        assert len(await running.inbox()) == FLOOD  # every 202 was a stored row

        async def all_staged() -> bool:
            return await staged(running) == FLOOD

        # staging is not an outbound write: it goes on while paused
        await until(all_staged, what=f"all {FLOOD} deliveries staged while paused")
        assert {r["state"] for r in await running.inbox()} == {"processed"}
        await declined_while_paused(engine, await planned_writes(running))
        assert api_writes(fakes) == 0
        health = (await running.client.get("/health")).json()
        assert health["paused"] is True and health["status"] == "degraded"  # paused: nothing flows to the sink
        assert {"pending", "in_flight", "dead", "oldest_age_seconds"} <= set(health["checks"]["queue"])
        assert "cursor_age_seconds" in health["checks"]["apollo"]

        engine.resume()

        async def all_written() -> bool:
            return len(fakes.halo.records("users")) == FLOOD

        await until(all_written, what=f"all {FLOOD} people written after resume", within=30)
        emails = {u.get("emailaddress") for u in fakes.halo.records("users")}
        assert emails == {f"flo{i}@corp{i}.example" for i in range(FLOOD)}
        assert await running.dead_letters() == []


async def test_bad_deliveries_become_dead_letters_and_the_rest_goes_on(tmp_path: Path) -> None:
    async with engine_daemon(tmp_path) as (running, _fakes):
        good = await running.deliver({"leads": [lead(1), {"id": "bad-1", "person": {"shoe_size": "44"}}]},
                                     delivery_id="mixed")
        not_leads = await running.deliver({"hello": "world"}, delivery_id="not-leads")
        assert (good.status_code, not_leads.status_code) == (202, 202)

        async def settled() -> bool:
            return {r["state"] for r in await running.inbox()} <= {"processed", "failed"}

        await until(settled, what="every delivery processed or failed")
        states = {r["delivery_id"]: (r["state"], r["error"]) for r in await running.inbox()}
        assert states["mixed"] == ("processed", None)
        assert states["not-leads"][0] == "failed" and "neither a lead" in states["not-leads"][1]
        assert await staged(running) == 1
        letters = {(d["stage"], d["source_id"]): d["reason"] for d in await running.dead_letters()}
        assert "neither a lead" in letters[("webhook", "not-leads")]
        assert any(stage == "intake" and "shoe_size" in reason for (stage, _), reason in letters.items())


async def planned_writes(running: Running) -> int:
    """Waits until the planner has put rows in the outbox; their number."""
    async def pending() -> int:
        return int((await running.client.get("/health")).json()["checks"]["queue"]["pending"])

    return await until(pending, lambda n: n > 0, what="outbox rows planned while paused")
