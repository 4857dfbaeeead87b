"""halosyncctl against a daemon with the real sync engine, the Apollo source and the HaloPSA sink, both fakes
served over real sockets: pause stops outbound writes while leads keep being staged, resume drains them; sync
--wait / --follow / --dry-run; concurrency; custom fields."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio

from halosync.cli.commands.demo import DemoFakes, demo_plugins, write_config
from halosync.control.server import ControlComponent
from halosync.engine.component import EngineComponent
from halosync_apollo.fake import GeneratorSpec
from tests.control.harness import Running, running_daemon, short_dir
from tests.engine.paused import declined_while_paused
from tests.waiting import until

Capsys = pytest.CaptureFixture[str]


def api_writes(fakes: DemoFakes) -> int:
    """POSTs to HaloPSA's API (creates and updates; the token endpoint is not one)."""
    return sum(1 for r in fakes.halo.log if r.method == "POST" and r.route.startswith("/api/"))


@asynccontextmanager
async def engine_daemon(leads: int = 0) -> AsyncIterator[tuple[Running, DemoFakes]]:
    fakes = DemoFakes.create(leads, seed=5, halo_rate=100_000)
    async with trio.open_nursery() as nursery:
        await fakes.serve(nursery)
        with short_dir() as base:
            plugins = demo_plugins()
            text = write_config(base, fakes.apollo_url, fakes.halo_url, sync={"interval": 3600}).read_text()
            async with running_daemon(text=text, plugins=plugins,
                                      components=[EngineComponent(), ControlComponent()]) as running:
                yield running, fakes
        nursery.cancel_scope.cancel()


async def first_pull_done(running: Running, capsys: Capsys) -> None:
    """The scheduler polls every source once at start; wait for that pull to end, as `status` shows it."""

    async def done() -> bool:
        apollo = (await running.ctl_json(capsys, "status"))[1]["sources"].get("apollo") or {}
        return bool(apollo.get("last_success_at") and not apollo.get("running"))

    await until(done, what="the first pull of apollo to end (status)", within=10)


async def drained(running: Running, capsys: Capsys) -> bool:
    figures = (await running.ctl_json(capsys, "queue"))[1]
    return bool(figures["pending"] + figures["in_flight"] + figures["staged_pending"] == 0)


async def test_pause_stops_writes_and_resume_drains(capsys: Capsys) -> None:
    async with engine_daemon() as (running, fakes):
        await first_pull_done(running, capsys)  # so that the leads made below come only with `sync --wait`
        code, paused = await running.ctl_json(capsys, "pause")
        assert code == 0 and paused["paused"] is True
        code, status = await running.ctl_json(capsys, "status")
        assert status["state"] == "paused" and status["paused"] is True
        generated = fakes.apollo.generate(GeneratorSpec(count=60, seed=9, duplicate_share=0.0,
                                                        hard_negative_share=0.0, missing_email_share=0.0))
        code, synced = await running.ctl_json(capsys, "sync", "--wait")
        assert code == 0 and synced["summary"]["sources"][0]["staged"] == len(generated.contacts)
        async def planned() -> int:
            return int((await running.ctl_json(capsys, "queue"))[1]["pending"])

        await declined_while_paused(running.daemon.engine,
                                    await until(planned, lambda n: n > 0, what="outbox rows planned while paused"))
        assert api_writes(fakes) == 0
        code, resumed = await running.ctl_json(capsys, "resume")
        assert code == 0 and resumed["paused"] is False

        await until(lambda: drained(running, capsys), what="an empty queue")
        assert api_writes(fakes) > 0

        async def counted() -> bool:  # status figures may be a moment old (see halosync.control.snapshot)
            status = (await running.ctl_json(capsys, "status"))[1]
            users = len(fakes.halo.records("users"))
            return bool(status["state"] == "running" and status["totals"]["created"] == users)

        await until(counted, what="status totals.created equal to the users in HaloPSA", within=5)
        audit = [json.loads(line)["method"] for line in
                 (running.daemon.config.state_dir / "audit.log").read_text().splitlines()]
        assert audit == ["pause", "sync", "resume"]


async def test_sync_follow_streams_events_then_the_summary(capsys: Capsys) -> None:
    async with engine_daemon(40) as (running, _fakes):
        client = await running.raw()
        await client.send(b'{"v": 1, "id": 3, "method": "sync", "params": {"follow": true, "full": true}}\n')
        lines = [await client.line()]
        while "event" in lines[-1]:
            lines.append(await client.line())
        assert all(line["id"] == 3 for line in lines)
        events = [line["event"] for line in lines[:-1]]
        assert events[-1]["type"] == "done" and any(e["type"] == "progress" for e in events)
        assert lines[-1]["result"]["summary"]["type"] == "done"
        await client.aclose()
        code, followed = await running.ctl_json(capsys, "sync", "--follow")
        kinds = [event["type"] for event in followed["events"]]
        assert code == 0 and kinds.index("done") < kinds.index("writes")  # the pull, then its writes
        assert followed["events"][-1] == {"type": "writes", "staged_pending": 0, "pending": 0, "in_flight": 0}
        code, out, _ = await running.ctl(capsys, "sync", "--follow", "--full")
        assert code == 0 and "progress: apollo" in out and "source apollo" in out


async def test_dry_run_plans_and_writes_nothing(capsys: Capsys) -> None:
    async with engine_daemon() as (running, fakes):
        await first_pull_done(running, capsys)
        await running.ctl_json(capsys, "pause")
        fakes.apollo.generate(GeneratorSpec(count=30, seed=4))
        code, planned = await running.ctl_json(capsys, "sync", "--dry-run", "--wait")
        assert code == 0
        plan = planned["summary"]["sources"][0]["plan"]
        assert plan["counts"]["creates"] > 0 and api_writes(fakes) == 0
        code, out, _ = await running.ctl(capsys, "sync", "--dry-run", "--wait")
        assert code == 0 and "dry run: nothing written" in out
        audit = (running.daemon.config.state_dir / "audit.log").read_text()
        assert '"sync"' not in audit  # a dry run changes nothing, so it is not audited


async def test_concurrency_rate_limits_plugins_custom_fields(capsys: Capsys) -> None:
    async with engine_daemon(10) as (running, _fakes):
        code, result = await running.ctl_json(capsys, "concurrency", "5")
        assert code == 0 and result == {"workers": 5}
        assert running.daemon.engine is not None and running.daemon.engine.concurrency == 5  # type: ignore[attr-defined]
        code, plugins = await running.ctl_json(capsys, "plugins")
        assert {p["name"] for p in plugins["plugins"]} >= {"apollo", "halopsa"}
        code, limits = await running.ctl_json(capsys, "rate-limits")
        assert code == 0 and {w["provider"] for w in limits["windows"]} >= {"halopsa"}
        code, fields = await running.ctl_json(capsys, "custom-fields")
        assert code == 0 and fields["ok"] is True
        assert [c["name"] for c in fields["checks"]] == ["halopsa.custom_fields"]
        code, _, err = await running.ctl(capsys, "sync", "--source", "nope")
        assert code == 1 and "no enabled source 'nope'" in err


async def test_integrity_asks_the_sink_and_repairs_a_deleted_record(capsys: Capsys) -> None:
    async with engine_daemon(20) as (running, fakes):
        await first_pull_done(running, capsys)
        await until(lambda: drained(running, capsys), what="an empty queue")
        code, report = await running.ctl_json(capsys, "integrity")
        assert code == 0 and report["ok"] is True
        victim = str(fakes.halo.records("users")[0]["id"])
        fakes.halo.tables["users"].rows.pop(int(victim))  # an admin deletes the user in HaloPSA
        code, report = await running.ctl_json(capsys, "integrity")
        links = next(c for c in report["checks"] if c["name"] == "links_point_to_existing_records")
        assert code == 1 and links["problems"] >= 1
        assert victim in {d.get("sink_id") for d in links["details"]}
        code, report = await running.ctl_json(capsys, "integrity", "--repair")
        assert code == 0 and report["ok"] is True
        code, report = await running.ctl_json(capsys, "integrity")
        assert code == 0 and report["ok"] is True


async def test_dead_letters_retried_after_the_cause_is_fixed(capsys: Capsys) -> None:
    async with engine_daemon() as (running, fakes):
        await first_pull_done(running, capsys)
        generated = fakes.apollo.generate(GeneratorSpec(count=20, seed=12, duplicate_share=0.0,
                                                        hard_negative_share=0.0, missing_email_share=0.0))
        company = next(c["organization"]["name"] for c in generated.contacts if c.get("organization"))
        fakes.halo.settings.business_rule_refuses = company  # HaloPSA refuses this company by a business rule

        async def dead_letters() -> bool:
            return bool(await drained(running, capsys) and (await running.ctl_json(capsys, "dlq", "list"))[1]["total"])

        code, _ = await running.ctl_json(capsys, "sync", "--wait")
        await until(dead_letters, what="a drained queue with dead letters")
        code, listed = await running.ctl_json(capsys, "dlq", "list")
        assert code == 1 and {d["stage"] for d in listed["items"]} == {"write"}
        assert any("business rule" in d["reason"] for d in listed["items"])
        fakes.halo.settings.business_rule_refuses = ""  # the HaloPSA admin lifts the rule
        code, outcome = await running.ctl_json(capsys, "dlq", "retry", "--all")
        assert code == 0 and sorted(outcome["retried"]) == sorted(d["id"] for d in listed["items"])

        async def all_written() -> bool:
            return bool(await drained(running, capsys) and
                        (await running.ctl_json(capsys, "dlq", "list"))[1]["total"] == 0 and
                        any(c["name"] == company for c in fakes.halo.records("client")))

        await until(all_written, what="the retried leads written, no dead letter left")
        code, found = await running.ctl_json(capsys, "trace", listed["items"][0]["source_id"])
        assert code == 0 and "retried" in [e["stage"] for e in found["leads"][0]["events"]]
