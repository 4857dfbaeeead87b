"""``halosync import FILE``: the plugin loaded through its entry point, the file staged through it into the store,
offline; run again it stages only what changed; it refuses while a daemon runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from halosync.cli.main import main
from halosync.daemon import lock
from halosync.exitcodes import EX_CONFIG, EX_OK, EX_PROBLEMS
from halosync.store.gateway import Store
from halosync.store.models import DeadLetter, StagedLead
from halosync_files.fake.generator import expected_id, people, write_csv


@pytest.fixture(autouse=True)
def entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HALOSYNC_DISABLE_PLUGIN_AUTOLOAD", raising=False)  # load halosync_files as users get it


def config(tmp_path: Path, *, files: bool = True) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    path = tmp_path / "halosync.toml"
    body = (f'[daemon]\nstate_dir = "{tmp_path / "state"}"\n\n[database]\nurl = "sqlite:///{tmp_path / "h.db"}"\n')
    if files:
        body += f'\n[plugins.files]\nfolder = "{inbox}"\nlabels = ["import-test"]\n'
    path.write_text(body, encoding="utf-8")
    return path


def store_rows(tmp_path: Path) -> tuple[dict[str, list[str]], list[str]]:
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        staged = dict(store.call(lambda: [(r.source_id, r.payload["labels"]) for r in StagedLead.select()]))
        dead = store.call(lambda: [d.reason for d in DeadLetter.select()])
    finally:
        store.close()
    return staged, dead


def test_import_stages_a_file_and_again_only_its_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(tmp_path)
    persons = list(people(30, seed=21))
    export = write_csv(tmp_path / "ZoomInfo export.csv", "zoominfo", persons)
    with export.open("a", encoding="utf-8", newline="") as f:
        f.write("999,Nobody,,,,,,not-an-email,,,,,,,,,,,\r\n")  # row 32: a bad e-mail
    assert main(["--config", str(cfg), "import", str(export)]) == EX_PROBLEMS
    out = capsys.readouterr().out
    assert "staged 30 lead(s) under files" in out and "1 rejected" in out and "halosyncctl dlq list" in out
    staged, dead = store_rows(tmp_path)
    assert set(staged) == {expected_id("zoominfo", p) for p in persons}
    assert staged[expected_id("zoominfo", persons[0])] == ["import-test"]
    assert dead == ["ZoomInfo export.csv:32: 'not-an-email' is not an e-mail address"]
    assert export.exists()  # the user's own file stays where it is

    write_csv(export, "zoominfo", [*persons, *people(2, seed=22, start=500)])  # two more people, the bad row fixed
    assert main(["--config", str(cfg), "import", "--json", str(export)]) == EX_OK
    report = json.loads(capsys.readouterr().out)
    assert (report["staged"], report["rejected"], report["source"]) == (2, 0, "files")
    assert len(store_rows(tmp_path)[0]) == 32


def test_import_refuses_while_a_daemon_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(tmp_path)
    export = write_csv(tmp_path / "lusha.csv", "lusha", people(3))
    with lock.held_by_daemon(tmp_path / "state"):
        code = main(["--config", str(cfg), "import", str(export)])
    assert code != EX_OK
    assert "a running halosync daemon holds the state store" in capsys.readouterr().err
    assert not (tmp_path / "h.db").exists()  # refused before the store was touched


def test_import_without_a_file_source_says_how_to_add_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(tmp_path, files=False)
    export = write_csv(tmp_path / "lusha.csv", "lusha", people(1))
    assert main(["--config", str(cfg), "import", str(export)]) == EX_CONFIG
    assert "add [plugins.files]" in capsys.readouterr().err


def test_import_of_a_missing_file_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(tmp_path)
    assert main(["--config", str(cfg), "import", str(tmp_path / "nope.csv")]) == EX_PROBLEMS
    assert capsys.readouterr().err.strip() == f"halosync: {tmp_path / 'nope.csv'}: no such file"
