"""Store inspection on both databases: queue figures, trace, dead letters, and the offline `halosync integrity`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from halosync.cli.main import main as halosync_main
from halosync.engine.figures import queue_figures
from halosync.inspect.deadletters import drop_dead_letters, list_dead_letters, retry_dead_letters
from halosync.inspect.integrity import run_checks
from halosync.inspect.trace import trace
from halosync.store.gateway import Store
from halosync.store.models import Company, LineageEvent, Link, Outbox, Person, StagedLead
from tests.control.harness import restore_logging
from tests.inspect.seed import seed

__all__ = ["restore_logging"]  # a fixture used by name


async def test_figures_trace_and_dead_letters(db_url: str) -> None:
    store = Store(db_url)
    await store.run(store.create_schema)
    ids = await store.run(seed, True)
    figures = await store.run(queue_figures, time.time())
    assert (figures["pending"], figures["in_flight"], figures["dead"]) == (0, 1, 3)
    assert figures["oldest_age_seconds"] >= 0 and figures["by_sink"] == {"halopsa": {"pending": 0, "in_flight": 1}}
    found = await store.run(trace, "ADA@example.com")
    assert [(lead["source"], lead["source_id"]) for lead in found["leads"]] == [("apollo", "1")]
    assert (await store.run(trace, "500"))["leads"][0]["source_id"] in ("6", "7")
    assert len((await store.run(trace, "500"))["leads"]) == 2
    listed = await store.run(list_dead_letters, 1, "write")
    assert listed["total"] == 1 and listed["items"][0]["id"] == ids["write"]
    outcome = await store.transaction(retry_dead_letters, None)
    assert sorted(outcome["retried"]) == sorted([ids["write"], ids["match"]])
    assert [f["id"] for f in outcome["failed"]] == [ids["intake"]]
    assert (await store.transaction(drop_dead_letters, [ids["intake"]]))["dropped"] == [ids["intake"]]
    store.close()


async def test_integrity_checks_and_repair(db_url: str) -> None:
    store = Store(db_url)
    await store.run(store.create_schema)
    ids = await store.run(seed, True)
    report = await run_checks(store)
    problems = {c["name"]: c["problems"] for c in report["checks"]}
    assert problems == {"links_point_to_existing_records": 1, "one_link_per_source_record": 0,
                        "one_source_record_per_sink_record": 1, "no_outbox_stuck_in_flight": 1,
                        "cursor_not_ahead_of_committed_work": 1, "schema_version": 0}
    repaired = await run_checks(store, repair=True)
    assert {c["name"]: c["repaired"] for c in repaired["checks"] if c["repaired"]} == {
        "links_point_to_existing_records": 1, "no_outbox_stuck_in_flight": 1}
    assert await store.run(lambda: Link.select().where(Link.sink_id == "999").count()) == 0
    stuck = await store.run(Outbox.get_by_id, ids["stuck"])
    assert (stuck.state, stuck.reconcile, stuck.claimed_by) == ("pending", True, None)
    after = {c["name"]: c["ok"] for c in (await run_checks(store))["checks"]}
    assert after["links_point_to_existing_records"] and after["no_outbox_stuck_in_flight"]
    assert not after["one_source_record_per_sink_record"] and not after["cursor_not_ahead_of_committed_work"]
    store.close()


def test_offline_integrity_command(tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    config = tmp_path / "halosync.toml"
    config.write_text(f'[daemon]\nstate_dir = "{tmp_path}"\n[http]\nlisten = ""\n')
    store = Store(f"sqlite:///{tmp_path / 'halosync.db'}")
    store.create_schema()
    store.call(seed)
    store.close()
    assert halosync_main(["--config", str(config), "integrity", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and len(report["checks"]) == 6
    store = Store(f"sqlite:///{tmp_path / 'halosync.db'}")
    store.call(lambda: Outbox.update(state="in_flight", claimed_at=time.time() - 7200).execute())
    store.close()
    assert halosync_main(["--config", str(config), "integrity", "--mirror-only"]) == 1
    assert "problems found" in capsys.readouterr().out
    assert halosync_main(["--config", str(config), "integrity", "--repair", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sum(c["repaired"] for c in report["checks"]) == 2


async def test_trace_shows_any_detail_the_engine_wrote(db_url: str) -> None:
    store = Store(db_url)
    await store.run(store.create_schema)

    def odd_events() -> None:
        for stage, detail in (("staged", {}), ("custom", ["a", "list"]), ("note", "plain text"),
                              ("matched", {"person": {"outcome": "review", "rule": "name+domain"}, "extra": {"x": 1}})):
            LineageEvent.create(source="webhook", source_id="w-1", stage=stage, detail=detail)

    await store.run(odd_events)
    [lead] = (await store.run(trace, "webhook:w-1"))["leads"]
    assert lead["staged"] is None and lead["links"] == [] and lead["writes"] == []
    assert [e["summary"] for e in lead["events"]] == ["", "['a', 'list']", "plain text",
                                                      "person: review by name+domain"]
    assert lead["events"][3]["detail"]["extra"] == {"x": 1}
    store.close()


def test_integrity_before_there_is_a_store_says_so_and_creates_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    config = tmp_path / "halosync.toml"
    config.write_text(f'[daemon]\nstate_dir = "{tmp_path / "state"}"\n[http]\nlisten = ""\n')
    assert halosync_main(["--config", str(config), "integrity", "--mirror-only"]) == 1
    err = capsys.readouterr().err
    assert "there is no store yet" in err and "halosync migrate up" in err and "no such table" not in err
    assert not (tmp_path / "state").exists()  # not even the directory
    assert halosync_main(["--config", str(config), "integrity", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["exists"] is False and report["checks"] == []

    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "halosync.db").write_bytes(b"")  # what an earlier version's read left behind
    assert halosync_main(["--config", str(config), "integrity", "--mirror-only"]) == 1
    assert "holds no halosync tables" in capsys.readouterr().err
    assert (tmp_path / "state" / "halosync.db").stat().st_size == 0


def two_records_numbered_61() -> None:
    """Ada (apollo:a1, as Ada+News@) linked to HaloPSA user 61; Bob (apollo:b1) to HaloPSA client 61."""
    company = Company.create(name="Acme", domain_key="acme.example")
    ada = Person.create(company=company, email_key="ada@acme.example")
    bob = Person.create(company=company, email_key="bob@acme.example")
    for source_id, person, email in (("a1", ada, "Ada+News@Acme.example"), ("b1", bob, "bob@acme.example")):
        StagedLead.create(source="apollo", source_id=source_id, content_hash="h", state="processed",
                          person_id=person.id, company_id=company.id,
                          payload={"person": {"email": email}, "company": {"name": "Acme"}})
    Link.create(source="apollo", source_id="a1", sink="halopsa", kind="person", sink_id="61", entity_id=ada.id)
    Link.create(source="apollo", source_id="b1", sink="halopsa", kind="company", sink_id="61",
                entity_id=company.id)


async def test_trace_says_which_record_an_id_names_and_finds_a_plus_address(db_url: str) -> None:
    """Issue 15: `trace 61` mixed HaloPSA client 61 and user 61; a plus-addressed email was not found by its mailbox."""
    store = Store(db_url)
    await store.run(store.create_schema)

    await store.run(two_records_numbered_61)
    both = await store.run(trace, "61")
    assert {(lead["source_id"], tuple(lead["matched_by"])) for lead in both["leads"]} == {
        ("a1", ("halopsa person 61",)), ("b1", ("halopsa company 61",))}
    user = await store.run(trace, "halopsa:user:61")
    assert [(lead["source_id"], lead["matched_by"]) for lead in user["leads"]] == [("a1", ["halopsa person 61"])]
    client = await store.run(trace, "halopsa:client:61")
    assert [lead["source_id"] for lead in client["leads"]] == ["b1"]
    assert (await store.run(trace, "halopsa:user:62"))["leads"] == []
    found = await store.run(trace, "ada@acme.example")
    assert [lead["source_id"] for lead in found["leads"]] == ["a1"]
    assert found["leads"][0]["matched_by"] == ["email ada@acme.example (normalised)"]
    assert [lead["source_id"] for lead in (await store.run(trace, "ADA+news@acme.example"))["leads"]] == ["a1"]
    store.close()


def test_read_only_commands_on_an_empty_postgresql_database_say_there_is_no_store(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    config = tmp_path / "halosync.toml"
    config.write_text(f'[daemon]\nstate_dir = "{tmp_path}"\n[database]\nurl = "{pg_url}"\n[http]\nlisten = ""\n')
    assert halosync_main(["--config", str(config), "integrity", "--mirror-only"]) == 1
    assert "there is no store yet in postgresql://" in capsys.readouterr().err
    assert halosync_main(["--config", str(config), "migrate", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["exists"] is False and status["migrations"][0]["applied_at"] is None
    store = Store(pg_url)
    try:
        assert store.call(lambda: store.db.get_tables()) == []  # asking created nothing
    finally:
        store.close()
