"""``halosync backup`` / ``restore`` through the command line, on SQLite and PostgreSQL.

What a user would see: the exit code, the one-line messages, and the rows that come back after a restore.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import trio

from halosync.cli.main import main
from halosync.config import loader
from halosync.daemon.app import Daemon
from halosync.plugin.manager import PluginManager
from halosync.store.gateway import Store
from halosync.store.models import KV, Link, StagedLead


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "halosync.toml"
    state = tmp_path / "state"
    path.write_text(f'[daemon]\nstate_dir = "{state}"\ncontrol_socket = "{state}/control.sock"\n'
                    f'[database]\nurl = "{url}"\n[http]\nlisten = ""\n')
    return path


def stage(store: Store, first: int, count: int) -> None:
    def write() -> None:
        for n in range(first, first + count):
            StagedLead.create(source="apollo", source_id=str(n), payload={"n": n}, content_hash=str(n))

    store.call(lambda: store.db.atomic()(write)())


def staged_ids(url: str) -> set[str]:
    store = Store(url)
    try:
        return set(store.call(lambda: [r.source_id for r in StagedLead.select()]))
    finally:
        store.close()


def fresh_store(url: str, leads: int) -> None:
    store = Store(url)
    store.create_schema()
    stage(store, 0, leads)
    store.close()


def test_sqlite_round_trip(tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, sqlite_url)
    fresh_store(sqlite_url, 20)
    assert main(["--config", str(config), "backup", str(tmp_path / "copy.db")]) == 0
    assert "backed up" in capsys.readouterr().out

    store = Store(sqlite_url)
    stage(store, 100, 5)  # written after the backup: the restore must take them away
    store.close()
    assert len(staged_ids(sqlite_url)) == 25

    assert main(["--config", str(config), "restore", str(tmp_path / "copy.db")]) == 0
    out, err = capsys.readouterr()
    assert "pass  store.sqlite_integrity" in out and "pass  store.schema" in out
    assert "pass  store.integrity.one_link_per_source_record" in out
    assert "previous store is kept as" in err
    assert staged_ids(sqlite_url) == {str(n) for n in range(20)}
    kept = list((tmp_path).glob("halosync.db.pre-restore-*"))
    assert len(kept) == 1 and len(staged_ids(f"sqlite:///{kept[0]}")) == 25


def test_backup_into_a_directory_and_never_over_a_file(tmp_path: Path, sqlite_url: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, sqlite_url)
    fresh_store(sqlite_url, 3)
    backups = tmp_path / "backups"
    backups.mkdir()
    assert main(["--config", str(config), "backup", "--json", str(backups)]) == 0
    written = list(backups.glob("halosync-*.db"))
    assert len(written) == 1
    # Two more at once (a cron job and a hand-run one, within the same second): three files, in the order made.
    assert main(["--config", str(config), "backup", str(backups)]) == 0
    assert main(["--config", str(config), "backup", str(backups)]) == 0
    made = sorted(backups.glob("halosync-*.db"), key=lambda p: p.name)
    assert len(made) == 3 and made[0] == written[0]
    assert [p.stat().st_mtime_ns for p in made] == sorted(p.stat().st_mtime_ns for p in made)
    capsys.readouterr()
    assert main(["--config", str(config), "backup", str(written[0])]) == 1
    assert "already exists" in capsys.readouterr().err
    # A backup is one self-contained file: no -wal beside it is needed to read it.
    with sqlite3.connect(written[0]) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert db.execute("SELECT count(*) FROM staged_lead").fetchone()[0] == 3


def test_backup_while_writes_go_on_is_consistent(tmp_path: Path, sqlite_url: str) -> None:
    """Every backup is one committed state: batches of ten are all there or not at all."""
    config = write_config(tmp_path, sqlite_url)
    fresh_store(sqlite_url, 0)
    stop = threading.Event()

    def writer() -> None:
        store = Store(sqlite_url)
        n = 0
        while not stop.is_set():
            stage(store, n, 10)
            n += 10
        store.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for i in range(5):
            assert main(["--config", str(config), "backup", str(tmp_path / f"b{i}.db")]) == 0
    finally:
        stop.set()
        thread.join()
    for i in range(5):
        with sqlite3.connect(tmp_path / f"b{i}.db") as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert db.execute("SELECT count(*) FROM staged_lead").fetchone()[0] % 10 == 0


def test_restore_refuses_a_damaged_backup_and_changes_nothing(tmp_path: Path, sqlite_url: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, sqlite_url)
    fresh_store(sqlite_url, 200)
    assert main(["--config", str(config), "backup", str(tmp_path / "copy.db")]) == 0
    data = bytearray((tmp_path / "copy.db").read_bytes())
    data[8192:12288] = b"\xa5" * 4096  # scribble over a page in the middle
    (tmp_path / "copy.db").write_bytes(bytes(data))
    store = Store(sqlite_url)
    stage(store, 1000, 1)
    store.close()
    assert main(["--config", str(config), "restore", str(tmp_path / "copy.db")]) == 1
    assert "nothing was changed" in capsys.readouterr().err
    assert len(staged_ids(sqlite_url)) == 201


def test_restore_refuses_a_store_from_a_newer_halosync(tmp_path: Path, sqlite_url: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, sqlite_url)
    fresh_store(sqlite_url, 1)
    assert main(["--config", str(config), "backup", str(tmp_path / "copy.db")]) == 0
    with sqlite3.connect(tmp_path / "copy.db") as db:
        db.execute("INSERT INTO halosync_schema_migration (name, applied) VALUES ('9999_future', '2030-01-01')")
    assert main(["--config", str(config), "restore", str(tmp_path / "copy.db")]) == 1
    err = capsys.readouterr().err
    assert "schema version 9999 is newer" in err and "upgrade halosync" in err


def test_restore_refuses_a_backup_of_the_other_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "postgresql://postgres@127.0.0.1:1/none")
    fresh_store(f"sqlite:///{tmp_path / 'other.db'}", 1)
    assert main(["--config", str(config), "restore", str(tmp_path / "other.db")]) == 1
    assert "is a sqlite backup but database.url is postgresql" in capsys.readouterr().err


async def test_restore_refuses_while_the_daemon_runs(tmp_path: Path, sqlite_url: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config_path = write_config(tmp_path, sqlite_url)
    fresh_store(sqlite_url, 2)
    assert main(["--config", str(config_path), "backup", str(tmp_path / "copy.db")]) == 0
    config = loader.load(config_path)
    daemon = Daemon(config, PluginManager(), components=[])
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.serve)
        code = await trio.to_thread.run_sync(main, ["--config", str(config_path), "restore",
                                                    str(tmp_path / "copy.db")])
        assert code == 1
        assert "a running halosync daemon holds the state store" in capsys.readouterr().err
        daemon.request_stop()
    restore = ["--config", str(config_path), "restore", str(tmp_path / "copy.db")]
    assert await trio.to_thread.run_sync(main, restore) == 0


async def test_daemon_refuses_to_start_during_a_restore(tmp_path: Path, sqlite_url: str) -> None:
    from halosync.daemon import lock
    from halosync.errors import StoreError

    config = loader.load(write_config(tmp_path, sqlite_url))
    with lock.held_exclusively(config.state_dir), pytest.raises(StoreError, match="restore"):
        await Daemon(config, PluginManager(), components=[]).serve()


@pytest.mark.postgres
def test_postgres_round_trip(tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, pg_url)
    fresh_store(pg_url, 30)
    assert main(["--config", str(config), "backup", str(tmp_path / "copy.dump")]) == 0
    assert (tmp_path / "copy.dump").read_bytes().startswith(b"PGDMP")
    store = Store(pg_url)
    stage(store, 500, 4)
    store.call(lambda: KV.create(key="added-later", value=1))
    store.close()
    assert main(["--config", str(config), "restore", str(tmp_path / "copy.dump")]) == 0
    out = capsys.readouterr().out
    assert "pass  store.schema" in out
    assert staged_ids(pg_url) == {str(n) for n in range(30)}
    assert list((tmp_path / "state").glob("pre-restore-*.dump"))


def test_postgres_without_pg_dump_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "postgresql://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no PostgreSQL client on it
    assert main(["--config", str(config), "backup", str(tmp_path / "copy.dump")]) == 1
    assert "pg_dump is not installed" in capsys.readouterr().err


def test_restore_reports_data_integrity_problems_of_the_backup(tmp_path: Path, sqlite_url: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Two source records on one HaloPSA record, not merged on purpose: restored, but reported, exit 1."""
    config = write_config(tmp_path, sqlite_url)
    fresh_store(sqlite_url, 2)
    store = Store(sqlite_url)
    for source_id in ("0", "1"):
        store.call(Link.create, source="apollo", source_id=source_id, sink="halopsa", kind="person", sink_id="77",
                   entity_id=1)
    store.close()
    assert main(["--config", str(config), "backup", str(tmp_path / "copy.db")]) == 0
    assert main(["--config", str(config), "restore", str(tmp_path / "copy.db")]) == 1
    out = capsys.readouterr().out
    assert "fail  store.integrity.one_source_record_per_sink_record  1 problem(s)" in out
    assert "halosync integrity --repair" in out


def test_keep_prunes_old_backups_in_a_directory(tmp_path: Path, sqlite_url: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, sqlite_url)
    fresh_store(sqlite_url, 1)
    backups = tmp_path / "backups"
    assert main(["--config", str(config), "backup", f"{backups}/"]) == 1  # a missing directory is not a file name
    assert "does not exist" in capsys.readouterr().err and not backups.exists()
    backups.mkdir()
    for stamp in ("20000101-020000", "20000102-020000", "20000103-020000"):
        (backups / f"halosync-{stamp}.db").write_bytes(b"")
    (backups / "keep-me.db").write_bytes(b"")
    assert main(["--config", str(config), "backup", "--keep", "2", f"{backups}/"]) == 0
    left = sorted(p.name for p in backups.iterdir())
    assert left[0] == "halosync-20000103-020000.db" and left[1].startswith("halosync-") and left[2] == "keep-me.db"
    assert len(left) == 3
    assert main(["--config", str(config), "backup", "--keep", "2", str(tmp_path / "one.db")]) == 1


@pytest.mark.postgres
def test_postgres_restore_refuses_a_dump_of_another_schema(tmp_path: Path, pg_url: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other"
    other.mkdir()
    fresh_store(pg_url, 3)
    assert main(["--config", str(write_config(other, pg_url)), "backup", str(tmp_path / "other.dump")]) == 0
    target = pg_url.rsplit("search_path%3D", 1)[0] + "search_path%3Dpublic_elsewhere"
    assert main(["--config", str(write_config(tmp_path, target)), "restore", str(tmp_path / "other.dump")]) == 1
    err = capsys.readouterr().err
    assert "cannot be restored into schema 'public_elsewhere'" in err and "nothing was changed" in err


@pytest.mark.postgres
def test_postgres_restore_into_an_empty_database(tmp_path: Path, pg_url: str) -> None:
    """Disaster recovery: a new server, an empty schema, the last backup."""
    import psycopg2

    fresh_store(pg_url, 4)
    config = write_config(tmp_path, pg_url)
    assert main(["--config", str(config), "backup", str(tmp_path / "copy.dump")]) == 0
    schema = pg_url.rsplit("search_path%3D", 1)[1]
    with psycopg2.connect(pg_url.split("?")[0]) as conn, conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA "{schema}" CASCADE')  # not even the schema is left
    conn.close()
    assert main(["--config", str(config), "restore", str(tmp_path / "copy.dump")]) == 0
    assert staged_ids(pg_url) == {"0", "1", "2", "3"}
    assert not list((tmp_path / "state").glob("pre-restore-*.dump"))  # nothing to keep
