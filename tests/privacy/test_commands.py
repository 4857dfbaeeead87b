"""Issue 16's commands as a user runs them: halosyncctl suppress/forget/export-person against a running daemon, and
the offline halosync suppress/forget/export-person on the store directly."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from halosync.cli.main import main
from halosync.contracts import EntityKind, ForgetResult
from halosync.plugin.manager import PluginManager
from halosync.store.models import MirrorRecord, StagedLead, Suppression
from tests.control.harness import restore_logging, running_daemon
from tests.engine.memory import MemoryPlugin, MemorySink, MemorySource
from tests.inspect.seed import seed
from tests.privacy.rig import rows

Capsys = pytest.CaptureFixture[str]
__all__ = ["restore_logging"]  # a fixture used by name


@dataclass
class ForgettingMemorySink(MemorySink):
    name: str = "halopsa"
    forgotten: list[str] = field(default_factory=list)

    async def forget(self, kind: EntityKind, sink_id: str) -> ForgetResult:
        self.forgotten.append(sink_id)
        return ForgetResult(sink_id, "deleted", "DELETE /Users/" + sink_id)


async def test_suppress_add_list_remove(capsys: Capsys, db_url: str) -> None:
    async with running_daemon(database_url=db_url) as running:
        code, added = await running.ctl_json(capsys, "suppress", "add", "Eve@Example.com", "@spam.example",
                                             "--reason", "asked by phone")
        assert code == 0 and added == {"added": 2, "cancelled": 0}
        code, again = await running.ctl_json(capsys, "suppress", "add", "eve@example.com")
        assert again["added"] == 0  # already there
        code, listing = await running.ctl_json(capsys, "suppress", "list")
        assert listing["total"] == 2
        assert {(e["kind"], e["value"], e["reason"]) for e in listing["entries"]} == {
            ("email", "eve@example.com", "asked by phone"), ("domain", "spam.example", "asked by phone")}
        code, out, _ = await running.ctl(capsys, "suppress", "list")
        assert code == 0 and "eve@example.com" in out and "spam.example" in out
        code, out, err = await running.ctl(capsys, "suppress", "add", "gibberish")
        assert code != 0 and "email:ADDRESS" in out + err
        code, removed = await running.ctl_json(capsys, "suppress", "remove", "domain:spam.example")
        assert removed == {"removed": 1}
        audit = (Path(running.daemon.config.state_dir) / "audit.log").read_text()
        assert "suppress.add" in audit and "eve@example.com" not in audit.lower() and "[personal data]" in audit


async def test_export_then_forget_in_sinks(capsys: Capsys, db_url: str) -> None:
    sink = ForgettingMemorySink()
    pm = PluginManager()
    pm.register(MemoryPlugin(MemorySource(), sink), "memory")
    async with running_daemon(database_url=db_url, plugins=pm) as running:
        await running.daemon.store.run(seed)
        code, exported = await running.ctl_json(capsys, "export-person", "ada@example.com")
        assert code == 0 and exported["format"] == "halosync.person-export/1"
        assert [s["source_id"] for s in exported["staged_leads"]] == ["1"]
        assert exported["staged_leads"][0]["payload"]["person"]["last_name"] == "Lovelace"
        assert len(exported["lineage"]) == 5 and exported["mirror_records"][0]["sink_id"] == "101"
        code, result = await running.ctl_json(capsys, "forget", "Ada@Example.com", "--in-sinks")
        assert code == 0, result
        assert result["in_sinks"] == [{"sink": "halopsa", "sink_id": "101", "outcome": "deleted",
                                       "detail": "DELETE /Users/101"}]
        assert sink.forgotten == ["101"]
        assert result["removed"]["staged_lead"] == 1 and result["removed"]["lineage_event"] == 5
        assert result["removed"]["mirror_record"] == 1 and result["removed"]["link"] == 1
        store = running.daemon.store
        assert await store.run(lambda: StagedLead.select().where(StagedLead.source_id == "1").count()) == 0
        assert await store.run(lambda: MirrorRecord.select().where(MirrorRecord.sink_id == "101").count()) == 0
        assert await store.run(lambda: StagedLead.select().count()) == 2  # bob and cy stay
        code, exported = await running.ctl_json(capsys, "export-person", "ada@example.com")
        assert code == 1 and not exported["found"] and exported["suppressed"][0]["value"] is None
        audit = [json.loads(line) for line in
                 (Path(running.daemon.config.state_dir) / "audit.log").read_text().splitlines()]
        assert [a["method"] for a in audit] == ["forget", "forget.in_sinks"]
        assert audit[0]["params"]["query"] == "[personal data]"
        assert audit[1]["params"]["sinks"][0]["outcome"] == "deleted"
        assert "ada" not in json.dumps(audit).lower()
        code, out, _ = await running.ctl(capsys, "forget", "nobody@example.org")
        assert code == 1 and "suppression list" in out


def test_offline_commands(tmp_path: Path, db_url: str, capsys: Capsys, restore_logging: None) -> None:
    config = tmp_path / "halosync.toml"
    config.write_text(f'[daemon]\nstate_dir = "{tmp_path}"\n[database]\nurl = "{db_url}"\n')
    rows(db_url, seed)
    argv = ["--config", str(config)]
    assert main([*argv, "suppress", "add", "linkedin:https://www.linkedin.com/in/someone", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"added": 1, "cancelled": 0}
    assert main([*argv, "suppress", "list"]) == 0
    assert "in/someone" in capsys.readouterr().out
    assert main([*argv, "export-person", "apollo:3"]) == 0
    assert json.loads(capsys.readouterr().out)["dead_letters"][0]["reason"] == "HTTP 400: bad phone"
    assert main([*argv, "forget", "apollo:3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["removed"]["staged_lead"] == 1 and result["removed"]["dead_letter"] == 1
    assert main([*argv, "forget", "apollo:3"]) == 1  # nothing left about them
    assert "suppression list" in capsys.readouterr().out
    assert rows(db_url, lambda: Suppression.select().where(Suppression.origin == "forget").count()) >= 2
    assert main([*argv, "suppress", "add", "nonsense"]) == 2
    assert "email:ADDRESS" in capsys.readouterr().err
