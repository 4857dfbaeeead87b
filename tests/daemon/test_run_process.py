"""`halosync run` as systemd runs it: a real subprocess, a real NOTIFY_SOCKET, real signals."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from tests.daemon.conftest import NotifySocket, lines

HALOSYNC = str(Path(sys.executable).with_name("halosync"))


def write_config(path: Path, tmp_path: Path, extra: str = "") -> None:
    path.write_text(f'[daemon]\nstate_dir = "{tmp_path}/state"\ncontrol_socket = "{tmp_path}/control.sock"\n'
                    f'shutdown_grace = 5\n{extra}\n[http]\nlisten = ""\n')


class Running:
    def __init__(self, process: trio.Process, log: Path) -> None:
        self.process = process
        self.log = log

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
async def daemon(tmp_path: Path, notify_socket: NotifySocket) -> AsyncIterator[Running]:
    config = tmp_path / "halosync.toml"
    write_config(config, tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "WATCHDOG_PID", "LISTEN_FDS")}
    env.update(NOTIFY_SOCKET=str(notify_socket.path), WATCHDOG_USEC="400000", HALOSYNC_CONFIG=str(config),
               HALOSYNC_DISABLE_PLUGIN_AUTOLOAD="1")
    log = tmp_path / "stderr.log"
    with log.open("wb") as out:
        process = await trio.lowlevel.open_process([HALOSYNC, "run"], env=env, stdout=out, stderr=out)
    try:
        yield Running(process, log)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_ready_watchdog_reload_and_stop(daemon: Running, notify_socket: NotifySocket, tmp_path: Path) -> None:
    ready = lines(await notify_socket.until(lambda m: "READY=1" in m, within=20))
    assert ready["STATUS"].startswith("running: ")
    statuses = [lines(m).get("STATUS", "") for m in notify_socket.seen[:-1]]
    assert statuses[0] == "starting: opening the state store"  # STATUS lines came before READY
    assert "WATCHDOG=1" in await notify_socket.until(lambda m: "WATCHDOG" in m, within=2)

    # SIGHUP: RELOADING=1 and MONOTONIC_USEC in one datagram, then READY=1.
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    daemon.signal(signal.SIGHUP)
    reloading = lines(await notify_socket.until(lambda m: "RELOADING=1" in m))
    assert before <= int(reloading["MONOTONIC_USEC"]) <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert "READY=1" in await notify_socket.until(lambda m: "READY=1" in m or "RELOADING=1" in m)

    # A now-invalid configuration is refused, with a clear log line, and the daemon carries on.
    config = tmp_path / "halosync.toml"
    config.write_text(config.read_text().replace("shutdown_grace = 5", 'shutdown_grace = "later"'))
    daemon.signal(signal.SIGHUP)
    await notify_socket.until(lambda m: "RELOADING=1" in m)
    refused = lines(await notify_socket.until(lambda m: "READY=1" in m))
    assert refused["STATUS"] == "running (reload refused: see the log)"
    await notify_socket.until(lambda m: "WATCHDOG=1" in m, within=2)
    assert (f"reload refused, keeping the running configuration: {config}:4: daemon.shutdown_grace: must be a "
            "number, not a string ('later')") in daemon.output()

    # SIGTERM: STOPPING=1, then exit 0 well within the grace period.
    daemon.signal(signal.SIGTERM)
    await notify_socket.until(lambda m: "STOPPING=1" in m)
    with trio.fail_after(10):
        assert await daemon.process.wait() == 0
    assert "received SIGTERM: stopping" in daemon.output()
    assert "Traceback" not in daemon.output()


async def test_an_invalid_configuration_stops_the_start(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    write_config(config, tmp_path, "colour = 1")
    result = await trio.run_process([HALOSYNC, "--config", str(config), "run"], capture_stdout=True,
                                    capture_stderr=True, check=False,
                                    env={**os.environ, "HALOSYNC_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert result.returncode == 78
    assert result.stderr.decode() == f"{config}:5: daemon.colour: unknown key\n"


async def test_an_unreachable_store_is_one_clear_line_without_the_password(tmp_path: Path) -> None:
    config = tmp_path / "halosync.toml"
    write_config(config, tmp_path)
    config.write_text(config.read_text() + '[database]\nurl = "postgresql://halo:pw-31c9-secret@127.0.0.1:1/halo"\n'
                      "timeout = 2\n")
    result = await trio.run_process([HALOSYNC, "--config", str(config), "run"], capture_stdout=True,
                                    capture_stderr=True, check=False,
                                    env={**os.environ, "HALOSYNC_DISABLE_PLUGIN_AUTOLOAD": "1"})
    err = result.stderr.decode()
    assert result.returncode == 1
    assert "halosync stopped: database postgresql://halo:********@127.0.0.1:1/halo: " in err
    assert "pw-31c9-secret" not in err and "Traceback" not in err


def _exec_reload() -> list[str]:
    unit = (Path(__file__).resolve().parents[2] / "systemd" / "halosync.service").read_text()
    [command] = [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith("ExecReload=")]
    return command.split()


async def test_the_units_exec_reload_reports_a_refused_configuration(daemon: Running, notify_socket: NotifySocket,
                                                                      tmp_path: Path) -> None:
    """`systemctl reload` runs the unit's ExecReload= and fails when it exits non-zero: the command must wait for
    the daemon's verdict, and exit 78 when the new configuration is refused (SIGHUP could not say)."""
    program, *arguments = _exec_reload()
    assert program == "/usr/bin/halosyncctl"
    argv = [str(Path(sys.executable).with_name("halosyncctl")), *arguments]
    await notify_socket.until(lambda m: "READY=1" in m, within=20)
    env = {**os.environ, "HALOSYNC_CONFIG": str(tmp_path / "halosync.toml")}  # the unit's Environment=

    good = await trio.run_process(argv, env=env, capture_stdout=True, capture_stderr=True, check=False)
    assert good.returncode == 0, good.stderr.decode()
    assert "READY=1" in await notify_socket.until(lambda m: "READY=1" in m)

    config = tmp_path / "halosync.toml"
    config.write_text(config.read_text().replace("shutdown_grace = 5", 'shutdown_grace = "later"'))
    refused = await trio.run_process(argv, env=env, capture_stdout=True, capture_stderr=True, check=False)
    assert refused.returncode == 78
    assert "daemon.shutdown_grace: must be a number" in refused.stderr.decode()
    assert "running configuration is kept" in refused.stderr.decode()
    assert daemon.process.returncode is None  # the daemon carries on with the old configuration


async def test_a_second_daemon_on_the_same_sqlite_store_is_refused_whatever_its_socket(
        daemon: Running, notify_socket: NotifySocket, tmp_path: Path) -> None:
    await notify_socket.until(lambda m: "READY=1" in m, within=20)
    second = tmp_path / "second.toml"
    # Its own state dir and socket, the first one's database file.
    second.write_text(f'[daemon]\nstate_dir = "{tmp_path}/state2"\ncontrol_socket = "{tmp_path}/second.sock"\n'
                      f'[database]\nurl = "sqlite:///{tmp_path}/state/halosync.db"\n[http]\nlisten = ""\n')
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM", "WATCHDOG_USEC")}
    env.update(HALOSYNC_CONFIG=str(second), HALOSYNC_DISABLE_PLUGIN_AUTOLOAD="1")
    with trio.fail_after(30):
        result = await trio.run_process([HALOSYNC, "run"], env=env, capture_stdout=True, capture_stderr=True,
                                        check=False)
    err = result.stderr.decode()
    assert result.returncode == 75, err
    assert f"another halosync daemon (pid {daemon.process.pid}) runs on the SQLite store" in err, err
    assert "its own database.url" in err
    assert not (tmp_path / "second.sock").exists()
    assert daemon.process.returncode is None  # the first one runs on
