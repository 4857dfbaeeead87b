"""The socket file: its mode and group, a stale file from a crash, a live daemon on it, a path that is not a
socket, and cleanup at exit."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from halosync.control.server import bind_socket
from halosync.errors import ControlError
from tests.control.harness import config_text, running_daemon, short_dir


async def test_mode_0660_and_removed_at_exit() -> None:
    async with running_daemon() as running:
        mode = os.stat(running.socket).st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o660
        path = running.socket
    assert not path.exists()


async def test_stale_socket_file_is_replaced() -> None:
    with short_dir() as base:
        state, path = base / "state", base / "control.sock"
        state.mkdir()
        leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        leftover.bind(str(path))  # bound, never listening, then closed: what a crashed daemon leaves
        leftover.close()
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with pytest.raises(ConnectionRefusedError):
            probe.connect(str(path))
        probe.close()
        async with running_daemon(text=config_text(state, path)) as running:
            client = await running.raw()
            assert "result" in await client.request("system.version")
            await client.aclose()


async def test_a_live_daemon_keeps_its_socket() -> None:
    async with running_daemon() as running:
        with pytest.raises(ControlError, match="another halosync daemon answers") as refused:
            await bind_socket(running.socket)
        assert refused.value.exit_code == 75  # the second daemon exits "try again later"
        client = await running.raw()
        assert "result" in await client.request("system.version")
        await client.aclose()


async def test_refuses_a_path_that_is_not_a_socket_or_too_long(tmp_path: Path) -> None:
    regular = tmp_path / "control.sock"
    regular.write_text("not a socket")
    with pytest.raises(ControlError, match="is not a socket") as refused:
        await bind_socket(regular)
    assert refused.value.exit_code == 78
    assert regular.read_text() == "not a socket"
    with pytest.raises(ControlError, match="longer than 107 bytes"):
        await bind_socket(tmp_path / ("x" * 120) / "control.sock")
