"""SO_PEERCRED: a client running as another user is refused unless the configuration allows it.

The tests run as root. The client is `halosyncctl`'s own ``main`` in a forked child process that has become uid/gid
65534 (nobody) before it connects, with the socket opened up (0666) so that only the daemon's own peer check stands
in its way. The child is forked rather than exec'd, and keeps one capability, CAP_DAC_READ_SEARCH (read any file,
search any directory; never write), because the checkout, its virtualenv and even the interpreter may live where
nobody cannot read them (a clone under /root or in a 0700 ``mktemp -d`` folder; a pyenv Python under /root): the
client imports modules and lists its command modules lazily, and must be able to. The daemon's check looks at the
peer's uid and groups only, and connecting to the socket still needs its write permission, which that capability
does not give: what is tested is exactly a process of uid 65534."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import traceback

import pytest
import trio

from halosync.cli.ctl import main as ctl_main
from tests.control.harness import restore_logging, running_daemon

__all__ = ["restore_logging"]  # a fixture used by name

NOBODY = 65534
PR_SET_KEEPCAPS = 8  # <linux/prctl.h>: keep the permitted capabilities across setuid() away from root
CAPABILITY_VERSION_3 = 0x20080522  # <linux/capability.h>: _LINUX_CAPABILITY_VERSION_3 (two 32-bit data words)
CAP_DAC_READ_SEARCH = 2

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="dropping to another uid needs root")


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32))


def _as_nobody() -> None:
    """Become uid/gid 65534 with no supplementary groups, keeping only CAP_DAC_READ_SEARCH (see the module)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_KEEPCAPS) failed")
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)  # root's permitted capabilities are kept (KEEPCAPS), its effective ones are gone
    data = (_CapData * 2)()
    data[0].effective = data[0].permitted = 1 << CAP_DAC_READ_SEARCH  # everything else is dropped for good
    if libc.capset(ctypes.byref(_CapHeader(CAPABILITY_VERSION_3, 0)), data) != 0:
        raise OSError(ctypes.get_errno(), "capset(CAP_DAC_READ_SEARCH) failed; the test needs it to read the "
                                          "checkout as uid 65534")
    assert (os.getuid(), os.geteuid(), os.getgid(), os.getgroups()) == (NOBODY, NOBODY, NOBODY, [])


def _fork_ctl(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
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
