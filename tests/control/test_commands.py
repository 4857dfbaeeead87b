"""Every `halosyncctl` command against a running daemon (no sync engine in it): JSON shape and exit code. The
commands that read and repair the store run on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from halosync.store.models import DeadLetter, LineageEvent, Outbox, StagedLead
from tests.control.harness import restore_logging, running_daemon
from tests.inspect.seed import seed

Capsys = pytest.CaptureFixture[str]
__all__ = ["restore_logging"]  # a fixture used by name


async def test_status_carries_the_contract_fields(capsys: Capsys, db_url: str) -> None:
    async with running_daemon(database_url=db_url) as running:
        await running.daemon.store.run(seed)
        code, status = await running.ctl_json(capsys, "status")
        assert code == 0
        assert status["state"] == "running" and status["version"] == running.daemon.version
        assert isinstance(status["uptime_seconds"], float)
        assert {"pending", "in_flight", "dead", "oldest_age_seconds"} <= set(status["queue"])
        assert status["queue"]["dead"] == 3
        assert set(status["totals"]) >= {"seen", "created", "updated", "merged", "skipped", "failed"}
        assert isinstance(status["plugins"], dict) and isinstance(status["sources"], dict)
        code, out, _ = await running.ctl(capsys, "status")
        assert code == 0 and "running" in out and "dead letters" in out


async def test_health_queue_plugins_rate_limits(capsys: Capsys) -> None:
    async with running_daemon() as running:
        code, health = await running.ctl_json(capsys, "health")
        assert code == 0 and health["status"] in ("healthy", "degraded")
        assert health["services"]["database"] == "connected" and health["version"] == running.daemon.version
        code, queue = await running.ctl_json(capsys, "queue")
        assert code == 0 and queue["pending"] == 0 and "rate_per_minute" in queue
        code, plugins = await running.ctl_json(capsys, "plugins")
        assert code == 0 and plugins == {"plugins": []}
        code, limits = await running.ctl_json(capsys, "rate-limits")
        assert code == 0 and limits == {"windows": []}
        code, out, _ = await running.ctl(capsys, "rate-limits")
        assert code == 0 and "no rate-limit window" in out


async def test_integrity_reports_then_repairs(capsys: Capsys, db_url: str) -> None:
    async with running_daemon(database_url=db_url) as running:
        await running.daemon.store.run(seed, True)
        code, report = await running.ctl_json(capsys, "integrity")
        assert code == 1 and report["ok"] is False
        by_name = {c["name"]: c for c in report["checks"]}
        assert set(by_name) >= {"links_point_to_existing_records", "one_link_per_source_record",
                                "one_source_record_per_sink_record", "no_outbox_stuck_in_flight",
                                "cursor_not_ahead_of_committed_work", "schema_version"}
        for check in report["checks"]:
            assert set(check) >= {"name", "ok", "problems", "details"}
        assert by_name["links_point_to_existing_records"]["problems"] == 1
        code, report = await running.ctl_json(capsys, "integrity", "--repair")
        by_name = {c["name"]: c for c in report["checks"]}
        assert code == 1  # the double link and the ghost cursor need a person
        assert by_name["links_point_to_existing_records"]["ok"] and by_name["no_outbox_stuck_in_flight"]["ok"]
        assert not by_name["one_source_record_per_sink_record"]["ok"]
        audit = (running.daemon.config.state_dir / "audit.log").read_text()
        assert '"method": "integrity"' in audit and '"repair": true' in audit
        code, out, _ = await running.ctl(capsys, "integrity")
        assert code == 1 and "problems found" in out and "one_source_record_per_sink_record" in out


async def test_dead_letters_list_retry_drop(capsys: Capsys, db_url: str) -> None:
    async with running_daemon(database_url=db_url) as running:
        ids = await running.daemon.store.run(seed)
        code, listed = await running.ctl_json(capsys, "dlq", "list")
        assert code == 1 and listed["total"] == 3
        assert {d["stage"] for d in listed["items"]} == {"match", "write", "intake"}
        assert set(listed["items"][0]) >= {"id", "stage", "source", "source_id", "reason", "created_at"}
        code, outcome = await running.ctl_json(capsys, "dlq", "retry", str(ids["write"]), str(ids["intake"]))
        assert code == 1 and outcome["retried"] == [ids["write"]]
        assert [f["id"] for f in outcome["failed"]] == [ids["intake"]]
        row = await running.daemon.store.run(Outbox.get_by_id, ids["write_outbox"])
        assert (row.state, row.attempts, row.reconcile) == ("pending", 0, True)
        code, outcome = await running.ctl_json(capsys, "dlq", "retry", "--all")
        assert outcome["retried"] == [ids["match"]]
        staged = await running.daemon.store.run(lambda: StagedLead.get(StagedLead.source_id == "2").state)
        assert staged == "pending"
        code, outcome = await running.ctl_json(capsys, "dlq", "drop", str(ids["intake"]), "424242")
        assert code == 1 and outcome == {"dropped": [ids["intake"]], "missing": [424242]}
        assert await running.daemon.store.run(lambda: DeadLetter.select().count()) == 0
        code, listed = await running.ctl_json(capsys, "dlq", "list")
        assert code == 0 and listed["total"] == 0
        code, _, err = await running.ctl(capsys, "dlq", "retry")
        assert code == 2 and "--all" in err
        stages = await running.daemon.store.run(lambda: [e.stage for e in LineageEvent.select().where(
            LineageEvent.source_id == "3")])
        assert "retried" in stages


async def test_trace_by_email_source_id_and_sink_id(capsys: Capsys, db_url: str) -> None:
    async with running_daemon(database_url=db_url) as running:
        await running.daemon.store.run(seed)
        for query in ("ada@example.com", "apollo:1", "1", "101"):
            code, found = await running.ctl_json(capsys, "trace", query)
            assert code == 0, query
            [lead] = found["leads"]
            assert (lead["source"], lead["source_id"]) == ("apollo", "1")
            assert [e["stage"] for e in lead["events"]] == ["staged", "matched", "planned", "write", "linked"]
            assert lead["links"][0]["sink_id"] == "101" and lead["writes"][0]["state"] == "done"
            assert lead["staged"]["person"]["email"] == "Ada@Example.com"
        code, out, _ = await running.ctl(capsys, "trace", "ada@example.com")
        assert code == 0 and "person: new by email" in out and "101" in out
        code, _, err = await running.ctl(capsys, "trace", "nobody@example.com")
        assert code == 1 and "nothing in the store matches" in err


async def test_engine_commands_say_the_engine_is_unavailable(capsys: Capsys) -> None:
    async with running_daemon() as running:
        for argv in (["pause"], ["resume"], ["concurrency", "4"], ["sync", "--wait"]):
            code, _, err = await running.ctl(capsys, *argv)
            assert code == 69 and "sync engine is not part of this running daemon" in err, argv
        code, _, err = await running.ctl(capsys, "custom-fields")
        assert code == 69 and "no sink is enabled" in err
        code, _, err = await running.ctl(capsys, "concurrency", "0")
        assert code == 2 and "between 1 and 64" in err


async def test_reload_valid_and_invalid(capsys: Capsys, restore_logging: None) -> None:
    async with running_daemon() as running:
        code, result = await running.ctl_json(capsys, "reload")
        assert code == 0 and result["reloaded"] is True
        text = running.config.read_text()
        running.config.write_text(text.replace("[http]", "[http]\nlisten_typo = 1"))
        code, _, err = await running.ctl(capsys, "reload")
        assert code == 78 and "listen_typo" in err and "running configuration is kept" in err
        assert running.daemon.config.get("http.listen") == ""
