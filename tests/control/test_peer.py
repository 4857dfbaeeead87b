"""SO_PEERCRED: a client running as another user is refused unless the configuration allows it.

The tests run as root. The client is `halosyncctl`'s own ``main`` in a forked child process that has dropped to
uid/gid 65534 (nobody) before it connects (the interpreter under /root is not executable by nobody, so the child is
forked rather than exec'd), with the socket opened up (0666) so that only the daemon's own peer check stands in
its way."""

from __future__ import annotations

import os
import subprocess
import sys
import traceback

import pytest
import trio
from rich.console import Console

from halosync.cli.ctl import build_parser
from halosync.cli.ctl import main as ctl_main
from tests.control.harness import restore_logging, running_daemon

__all__ = ["restore_logging"]  # a fixture used by name

NOBODY = 65534

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="dropping to another uid needs root")


def _as_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _fork_ctl(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    # Everything the client imports lazily must be loaded before the fork: nobody cannot read the stdlib under /root.
    build_parser()
    Console(record=True).export_text()
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: become nobody, run the client, never return into pytest
        code = 70
        try:
            os.dup2(out_write, 1)
            os.dup2(err_write, 2)
            sys.stdout = os.fdopen(1, "w", closefd=False)
            sys.stderr = os.fdopen(2, "w", closefd=False)
            _as_nobody()
            code = ctl_main(argv)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(out_write)
    os.close(err_write)
    with os.fdopen(out_read, "rb") as out, os.fdopen(err_read, "rb") as err:
        stdout, stderr = out.read(), err.read()
    _, status = os.waitpid(pid, 0)
    return subprocess.CompletedProcess(argv, os.waitstatus_to_exitcode(status), stdout, stderr)


async def _ctl_as_nobody(socket: str, *argv: str) -> subprocess.CompletedProcess[bytes]:
    os.chmod(os.path.dirname(socket), 0o755)
    os.chmod(socket, 0o666)
    return await trio.to_thread.run_sync(_fork_ctl, ["--socket", socket, "--json", *argv])


async def test_other_uid_is_refused_and_the_daemon_carries_on() -> None:
    async with running_daemon() as running:
        done = await _ctl_as_nobody(str(running.socket), "status")
        assert done.returncode == 77, done.stderr
        assert b"uid 65534 may not use this control socket" in done.stderr
        client = await running.raw()
        assert (await client.request("status"))["result"]["state"] == "running"
        await client.aclose()


async def test_allowed_uid_and_control_group_are_let_in() -> None:
    async with running_daemon(f"control_allowed_uids = [{NOBODY}]") as running:
        done = await _ctl_as_nobody(str(running.socket), "queue")
        assert done.returncode == 0, done.stderr
    async with running_daemon(f'control_group = "{NOBODY}"') as running:
        assert os.stat(running.socket).st_gid == NOBODY
        done = await _ctl_as_nobody(str(running.socket), "queue")
        assert done.returncode == 0, done.stderr


async def test_reload_applies_a_new_allowed_uid(capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    async with running_daemon() as running:
        assert (await _ctl_as_nobody(str(running.socket), "queue")).returncode == 77
        text = running.config.read_text()
        running.config.write_text(text.replace("[daemon]", f"[daemon]\ncontrol_allowed_uids = [{NOBODY}]"))
        code, _, err = await running.ctl(capsys, "reload")
        assert code == 0, err
        done = await _ctl_as_nobody(str(running.socket), "queue")
        assert done.returncode == 0, done.stderr
