"""How ``halosync backup``/``restore`` hand database.url to pg_dump and pg_restore: every libpq parameter on,
the password never on a command line."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from halosync.cli.main import main
from halosync.store.backup import pg_target
from halosync.store.gateway import Store
from tests.backup.test_backup_restore import fresh_store, stage, staged_ids, write_config

TLS_URL = ("postgresql://halo:p%40ss%3Aword@db.example.net:6432/halosync?sslmode=verify-full"
           "&sslrootcert=/etc/halosync/ca.pem&sslcert=/etc/halosync/client.pem&sslkey=/etc/halosync/client.key"
           "&application_name=halosync%20backup&target_session_attrs=read-write&options=-csearch_path%3Dhalo")


def test_every_parameter_reaches_the_conninfo_and_the_password_does_not() -> None:
    target = pg_target(TLS_URL)
    assert target.conninfo == (
        "postgresql://halo@db.example.net:6432/halosync?sslmode=verify-full&sslrootcert=%2Fetc%2Fhalosync%2Fca.pem"
        "&sslcert=%2Fetc%2Fhalosync%2Fclient.pem&sslkey=%2Fetc%2Fhalosync%2Fclient.key"
        "&application_name=halosync%20backup&target_session_attrs=read-write&options=-csearch_path%3Dhalo")
    assert target.env["PGPASSWORD"] == "p@ss:word"
    assert target.schema == "halo"


@pytest.mark.parametrize(("url", "conninfo", "password"), [
    ("postgresql:///halo?host=/run/postgresql", "postgresql:///halo?host=%2Frun%2Fpostgresql", None),
    ("postgres://127.0.0.1", "postgresql://127.0.0.1/postgres", None),  # the daemon's default database
    ("postgresql://a@h1:5432,h2:5433/db?password=s3cret&connect_timeout=3",
     "postgresql://a@h1:5432,h2:5433/db?connect_timeout=3", "s3cret"),
    ("postgresql://a@[::1]:5432/db", "postgresql://a@[::1]:5432/db", None),
])
def test_url_shapes_the_daemon_accepts(url: str, conninfo: str, password: str | None) -> None:
    target = pg_target(url)
    assert target.conninfo == conninfo
    assert target.env.get("PGPASSWORD") == password


@pytest.fixture
def recording_pg_dump(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pg_dump on PATH that records the command line and environment it was run with, and writes an archive
    header to its --file, so the backup command sees a success."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "pg_dump.record"
    script = bin_dir / "pg_dump"
    script.write_text("#!/bin/sh\n"
                      f'printf "%s\\n" "$@" > {record}\n'
                      f'printf "PGPASSWORD=%s\\n" "$PGPASSWORD" >> {record}\n'
                      'for a in "$@"; do case "$a" in --file=*) printf PGDMP > "${a#--file=}";; esac; done\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return record


def test_backup_runs_pg_dump_with_the_whole_url_and_the_password_in_its_environment(
        tmp_path: Path, recording_pg_dump: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, TLS_URL)
    assert main(["--config", str(config), "backup", str(tmp_path / "copy.dump")]) == 0
    out = capsys.readouterr().out
    assert "p%40ss" not in out and "p@ss" not in out
    lines = recording_pg_dump.read_text().splitlines()
    assert f"--dbname={pg_target(TLS_URL).conninfo}" in lines
    assert "--schema=halo" in lines
    assert [line for line in lines if "p@ss" in line or "p%40ss" in line] == ["PGPASSWORD=p@ss:word"]


def _with(url: str, params: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{params}"


@pytest.mark.postgres
def test_postgres_round_trip_with_libpq_parameters(tmp_path: Path, pg_url: str) -> None:
    url = _with(pg_url, "sslmode=disable&application_name=halosync%20backup%20test&connect_timeout=5")
    config = write_config(tmp_path, url)
    fresh_store(url, 6)
    assert main(["--config", str(config), "backup", str(tmp_path / "copy.dump")]) == 0
    store = Store(url)
    stage(store, 100, 3)
    store.close()
    assert main(["--config", str(config), "restore", str(tmp_path / "copy.dump")]) == 0
    assert staged_ids(url) == {str(n) for n in range(6)}


@pytest.mark.postgres
def test_a_parameter_the_server_cannot_meet_fails_the_backup_with_libpqs_reason(
        tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The test server is a primary: a URL that asks for a read-only session must fail, which shows the parameter
    reached pg_dump (with only host, port and database passed on, the backup would succeed)."""
    url = _with(pg_url, "target_session_attrs=read-only")
    fresh_store(pg_url, 1)
    assert main(["--config", str(write_config(tmp_path, url)), "backup", str(tmp_path / "copy.dump")]) != 0
    err = capsys.readouterr().err
    assert "pg_dump failed" in err and "read-only" in err
    assert not (tmp_path / "copy.dump").exists()
