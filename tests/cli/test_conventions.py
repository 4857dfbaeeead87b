"""What both programs do alike on their command line, as a user sees it: --config and --socket before or after
the command, --quiet and --verbose, a broken configuration file that halosyncctl steps over (it needs only the
socket's path), and a reader that goes away (`| head`) ending the program without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from halosync.cli.ctl import main as ctl_main
from halosync.cli.main import main as halosync_main
from tests.control.harness import restore_logging, running_daemon

__all__ = ["restore_logging"]  # a fixture
Capsys = pytest.CaptureFixture[str]
BIN = Path(sys.executable).parent


async def ctl(capsys: Capsys, *argv: str) -> tuple[int, str, str]:
    """halosyncctl's exit code, stdout, and its own stderr (the in-process daemon's log lines left out)."""
    capsys.readouterr()
    code = await trio.to_thread.run_sync(ctl_main, list(argv))
    out, err = capsys.readouterr()
    return code, out, "".join(line for line in err.splitlines(keepends=True) if not line[:4].isdigit())


async def test_socket_and_config_before_or_after_the_command(capsys: Capsys) -> None:
    async with running_daemon() as running:
        socket, config = str(running.socket), str(running.config)
        for argv in (["--socket", socket, "status"], ["status", "--socket", socket], ["--json", "status", "--config",
                     config], ["status", "--config", config, "--json"]):
            code, out, err = await ctl(capsys, *argv)
            assert code == 0, (argv, err)
            assert "state" in out and "running" in out
        with pytest.raises(SystemExit) as usage:
            await ctl(capsys, "--socket", socket, "status", "--config", config)
        assert usage.value.code == 2
        assert "--socket and --config cannot be used together" in capsys.readouterr().err


def test_halosync_config_before_or_after_the_command(tmp_path: Path, capsys: Capsys) -> None:
    config = tmp_path / "halosync.toml"
    config.write_text(f'[daemon]\nstate_dir = "{tmp_path}"\n')
    for argv in (["--config", str(config), "check-config"], ["check-config", "--config", str(config)]):
        capsys.readouterr()
        assert halosync_main(argv) == 0
        assert capsys.readouterr().out.startswith(f"{config}: ok")


async def test_a_broken_config_file_warns_and_the_socket_comes_from_elsewhere(
        capsys: Capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, restore_logging: None) -> None:
    broken = tmp_path / "halosync.toml"
    broken.write_text('[daemon\ncontrol_socket = "/nowhere.sock"\n')
    async with running_daemon() as running:
        monkeypatch.setenv("HALOSYNC_SOCKET", str(running.socket))
        monkeypatch.setenv("HALOSYNC_CONFIG", str(broken))  # the lookup finds it, as /etc/halosync's would be
        for command in ("status", "reload"):
            code, out, err = await ctl(capsys, command)
            assert code == 0, err
            assert f"halosyncctl: warning: {broken}: " in err and "is ignored here" in err
        assert "configuration reloaded" in out
        code, out, err = await ctl(capsys, "--config", str(broken), "--json", "status")
        assert code == 0 and '"state": "running"' in out and "warning" in err
        code, out, err = await ctl(capsys, "--quiet", "status")
        assert code == 0 and err == "" and "running" in out


async def test_quiet_and_verbose_on_halosyncctl(capsys: Capsys, restore_logging: None) -> None:
    async with running_daemon() as running:
        socket = str(running.socket)
        code, out, err = await ctl(capsys, "--socket", socket, "reload")
        assert code == 0 and out.startswith("configuration reloaded from") and err == ""
        code, out, err = await ctl(capsys, "--socket", socket, "reload", "--quiet")
        assert (code, out, err) == (0, "", "")  # an acknowledgement only: the exit code says it
        code, out, err = await ctl(capsys, "-q", "--socket", socket, "status")
        assert code == 0 and "uptime" in out and err == ""  # the result itself is still printed
        code, out, err = await ctl(capsys, "--socket", socket, "status", "-v")
        assert code == 0 and "uptime" in out
        assert f"halosyncctl: socket {socket} (from --socket)" in err
        assert "halosyncctl: status: connected in " in err and " ms, answered in " in err
        code, out, err = await ctl(capsys, "--socket", str(running.socket) + ".absent", "--quiet", "status")
        assert code == 69 and "no daemon is running" in err  # errors are still said


def test_quiet_and_verbose_on_halosync(tmp_path: Path, capsys: Capsys) -> None:
    def migrate(name: str, *flags: str) -> tuple[int, str, str]:
        config = tmp_path / f"{name}.toml"
        config.write_text(f'[daemon]\nstate_dir = "{tmp_path}"\n[database]\nurl = "sqlite:///{tmp_path / name}.db"\n')
        capsys.readouterr()
        code = halosync_main(["migrate", "--config", str(config), "up", *flags])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = migrate("plain")
    assert code == 0 and out.startswith("applied: 0001_initial") and "INFO" in err and "up: 0001_initial" in err
    code, out, err = migrate("quiet", "--quiet")
    assert code == 0 and out.startswith("applied: 0001_initial") and err == ""
    code, out, err = migrate("verbose", "-v")
    assert code == 0 and out.startswith("applied: 0001_initial")
    assert "DEBUG" in err and "halosync migrate: configuration " in err and "halosync migrate: exit 0 after" in err
    assert "HALOSYNC_LOG_LEVEL" not in os.environ  # set for the command only


def closed_reader(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a program whose stdout's reader has already gone, as `| head` leaves it once it has its lines."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(argv, stdout=write, stderr=subprocess.PIPE, text=True, timeout=60,
                              env={**os.environ, **(env or {})})
    finally:
        os.close(write)


def test_halosync_json_into_a_closed_pipe_ends_without_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "halosync.toml"
    config.write_text(f'[daemon]\nstate_dir = "{tmp_path}"\n')
    done = closed_reader([str(BIN / "halosync"), "config", "show", "--json", "--config", str(config)])
    assert done.returncode == 1 and done.stderr == ""
    done = closed_reader([str(BIN / "halosync"), "completion", "bash"])
    assert done.returncode == 1 and done.stderr == ""


async def test_halosyncctl_json_into_a_closed_pipe_ends_without_a_traceback() -> None:
    async with running_daemon() as running:
        for argv in (["--json", "status"], ["plugins", "--json"], ["completion", "zsh"]):
            done = await trio.to_thread.run_sync(
                closed_reader, [str(BIN / "halosyncctl"), "--socket", str(running.socket), *argv])
            assert done.returncode == 1 and done.stderr == "", (argv, done.stderr)
