"""Logging: stderr by default, journald priorities without timestamps, JSON lines, app.log/sync.log with rotation,
stdlib loggers routed in, every configured secret masked in every sink, no variable values in tracebacks."""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

from halosync import log
from halosync.config import loader
from halosync.config.loader import Config
from halosync.config.schema import Field, PluginConfigSpec
from halosync.errors import ConfigError

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
DEMO = PluginConfigSpec("demo", fields={"token": Field(str, "", secret=True)})
SECRET = "tok-5d1e9c-very-secret"
DB_PASSWORD = "pg-0a7f-password"


@pytest.fixture(autouse=True)
def reset_logging() -> Iterator[None]:
    yield
    logger.remove()
    logging.basicConfig(handlers=[], force=True)


def config(tmp_path: Path, daemon: str = "") -> Config:
    path = tmp_path / "halosync.toml"
    path.write_text(f"[daemon]\n{daemon}\n[database]\nurl = \"postgresql://halo:{DB_PASSWORD}@db/halo\"\n"
                    "[plugins.demo]\ntoken = \"env:DEMO_TOKEN\"\n")
    return loader.load(path, [DEMO], environ={"DEMO_TOKEN": SECRET})


def emit_everything() -> None:
    """Every way a secret could reach a log record."""
    logger.info("token is {}", SECRET)
    logger.bind(token=SECRET).warning("bound extra")
    log.sync_logger().info("sync: connecting with {}", f"postgresql://halo:{DB_PASSWORD}@db/halo")
    try:
        raise ValueError(f"provider said: bad token {SECRET}")
    except ValueError:
        logger.exception("request failed")
    logging.getLogger("hypercorn.error").error("stdlib says %s", SECRET)


def test_stderr_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    log.setup()
    logger.info("hello")
    logger.debug("not at info level")
    [line] = capsys.readouterr().err.splitlines()
    assert TIMESTAMP.match(line) and line.endswith(" INFO     tests.test_log: hello")


def test_journald_gets_priorities_and_no_timestamps(tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    with journal.open("w") as stream:
        stat = os.fstat(stream.fileno())
        log.setup(stream=stream, environ={"JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino}"})
        logger.info("started")
        logger.warning("slow provider")
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            logger.exception("cycle failed\nsecond line")
    lines = journal.read_text().splitlines()
    assert lines[:3] == ["<6>tests.test_log: started", "<4>tests.test_log: slow provider",
                         "<3>tests.test_log: cycle failed"]
    assert lines[3] == "<3>second line"
    assert lines[4] == "<3>Traceback (most recent call last):"
    assert all(line.startswith("<3>") for line in lines[2:])  # every line of the record keeps its priority
    assert lines[-1] == "<3>ZeroDivisionError: division by zero"
    assert not any(TIMESTAMP.search(line) for line in lines)


def test_journal_stream_of_another_file_is_not_journald(tmp_path: Path) -> None:
    with (tmp_path / "out").open("w") as stream:
        log.setup(stream=stream, environ={"JOURNAL_STREAM": "1:2"})
        logger.info("x")
    assert TIMESTAMP.match((tmp_path / "out").read_text())


def test_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log.setup(config(tmp_path, 'log_format = "json"'))
    logger.bind(source="apollo").info("pulled {} leads", 3)
    try:
        raise KeyError("id")
    except KeyError:
        logger.exception("bad page")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert {k: first[k] for k in ("level", "name", "message", "source")} == {
        "level": "INFO", "name": "tests.test_log", "message": "pulled 3 leads", "source": "apollo"}
    assert "time" in first and "priority" not in first
    assert second["exception"].endswith("KeyError: 'id'")


def test_log_dir_with_app_and_sync_logs_rotated_and_compressed(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    log.setup(config(tmp_path, f'log_dir = "{logs}"\nlog_rotation = "2 KB"\nlog_retention = 2'))
    for n in range(100):
        logger.info("app event {} {}", n, "x" * 60)
    log.sync_logger().info("lead p-1 created as 42")
    logger.complete()
    logger.remove()  # closes the files: retention is applied
    rotated = sorted(logs.glob("app.*.log.gz"))
    assert len(rotated) == 2  # retention: only the two newest rotated files are kept
    assert "app event" in gzip.decompress(rotated[-1].read_bytes()).decode()
    assert "lead p-1 created as 42" in (logs / "app.log").read_text()
    assert [line.split(": ", 1)[1] for line in (logs / "sync.log").read_text().splitlines()] == [
        "lead p-1 created as 42"]


def test_stdlib_loggers_are_routed(capsys: pytest.CaptureFixture[str]) -> None:
    log.setup()
    logging.getLogger("hypercorn.error").info("Running on http://127.0.0.1:8787")
    logging.getLogger("httpx").info('HTTP Request: GET https://api.apollo.io "200 OK"')  # below httpx's WARNING
    logging.getLogger("httpx").warning("retrying")
    err = capsys.readouterr().err
    assert "INFO     hypercorn.error: Running on http://127.0.0.1:8787" in err
    assert "WARNING  httpx: retrying" in err and "HTTP Request" not in err


def test_json_lines_under_journald_keep_their_priority(tmp_path: Path) -> None:
    """journald parses a leading <N> (SyslogLevelPrefix=yes, the default): without it every JSON line is "info"."""
    journal = tmp_path / "journal"
    with journal.open("w") as stream:
        stat = os.fstat(stream.fileno())
        log.setup(config(tmp_path, 'log_format = "json"'), stream=stream,
                  environ={"JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino}"})
        logger.info("started")
        logger.warning("slow provider")
        try:
            raise KeyError("id")
        except KeyError:
            logger.exception("bad page\nsecond line")
    lines = journal.read_text().splitlines()
    assert [line[:3] for line in lines] == ["<6>", "<4>", "<3>"]  # one line per record, each with its priority
    documents = [json.loads(line[3:]) for line in lines]
    assert [d["message"] for d in documents] == ["started", "slow provider", "bad page\nsecond line"]
    assert documents[2]["exception"].endswith("KeyError: 'id'")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_configured_secret_never_reaches_a_sink(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  fmt: str) -> None:
    logs = tmp_path / "logs"
    log.setup(config(tmp_path, f'log_dir = "{logs}"\nlog_format = "{fmt}"'))
    emit_everything()
    logger.complete()
    logger.remove()
    sinks = {"stderr": capsys.readouterr().err, "app.log": (logs / "app.log").read_text(),
             "sync.log": (logs / "sync.log").read_text()}
    for name, text in sinks.items():
        assert "********" in text, name  # the records arrived, masked
        assert SECRET not in text and DB_PASSWORD not in text, name
    assert "stdlib says ********" in sinks["app.log"]
    assert "bad token ********" in sinks["stderr"]


def test_tracebacks_show_no_variable_values(capsys: pytest.CaptureFixture[str]) -> None:
    log.setup()

    def connect() -> None:
        password = "local-value-" + "9e2b"  # not a configured secret: only diagnose=True would show it
        raise ConnectionError(f"refused ({len(password)} chars)")

    try:
        connect()
    except ConnectionError:
        logger.exception("connect failed")
    err = capsys.readouterr().err
    assert "ConnectionError: refused (16 chars)" in err and "local-value-9e2b" not in err


def test_an_unwritable_log_dir_is_a_config_problem(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the directory should be")
    cfg = config(tmp_path, f'log_dir = "{blocked}/logs"')
    with pytest.raises(ConfigError) as caught:
        log.setup(cfg)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.key) == (str(tmp_path / "halosync.toml"), 2, "daemon.log_dir")
    assert problem.message.startswith(f"cannot write log files in '{blocked}/logs': ")


def test_level_before_the_configuration_is_read(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALOSYNC_LOG_LEVEL", "debug")
    log.setup()
    logger.debug("early detail")
    monkeypatch.setenv("HALOSYNC_LOG_LEVEL", "loud")  # not a level: info, rather than no logging at all
    log.setup()
    logger.debug("hidden")
    logger.info("shown")
    err = capsys.readouterr().err
    assert "early detail" in err and "hidden" not in err and "shown" in err
