"""A real daemon serving its control socket in the test's trio loop, and ways to talk to it: ``halosyncctl``'s
own ``main`` (run in a worker thread, output captured), or a raw trio socket for protocol-level tests."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trio

from halosync import log
from halosync.cli.ctl import main as ctl_main
from halosync.config import loader
from halosync.control.server import ControlComponent
from halosync.daemon.app import Daemon
from halosync.daemon.components import Component
from halosync.plugin.manager import PluginManager


@contextlib.contextmanager
def short_dir() -> Iterator[Path]:
    """A directory with a short path: a Unix socket path must fit in 107 bytes, pytest's tmp_path may not."""
    path = Path(tempfile.mkdtemp(prefix="hsctl-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def config_text(state: Path, socket: Path, *, extra_daemon: str = "", extra: str = "",
                database_url: str = "") -> str:
    return f"""
[daemon]
state_dir = "{state}"
control_socket = "{socket}"
control_idle_timeout = 1.0
control_max_clients = 4
shutdown_grace = 2
{extra_daemon}

[database]
url = "{database_url or f"sqlite:///{state / 'halosync.db'}"}"

[http]
listen = ""
{extra}
"""


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Commands that set logging up (a reload, an offline command) bind the log to whatever stderr is then, pytest's
    capture; put it back on the real stderr afterwards."""
    yield
    log.setup(stream=sys.__stderr__)


@dataclass
class Running:
    daemon: Daemon
    socket: Path
    config: Path

    async def ctl(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
        """Run ``halosyncctl --socket SOCKET ARGV`` as a user would; returns (exit code, stdout, stderr)."""
        capsys.readouterr()
        code = await trio.to_thread.run_sync(ctl_main, ["--socket", str(self.socket), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    async def ctl_json(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
        code, out, err = await self.ctl(capsys, "--json", *argv)
        assert out.strip(), f"no JSON on stdout (exit {code}); stderr: {err}"
        return code, json.loads(out)

    async def raw(self) -> RawClient:
        return RawClient(await trio.open_unix_socket(str(self.socket)))


class RawClient:
    """Protocol-level access: send any bytes, read reply lines."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buffer = b""

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def request(self, method: str, params: dict[str, Any] | None = None, request_id: Any = 1) -> dict[str, Any]:
        await self.send(json.dumps({"v": 1, "id": request_id, "method": method, "params": params or {}}).encode()
                        + b"\n")
        return await self.line()

    async def line(self, within: float = 10) -> dict[str, Any]:
        with trio.fail_after(within):
            while b"\n" not in self.buffer:
                data = await self.stream.receive_some(65536)
                if not data:
                    raise EOFError(f"connection closed; unread: {self.buffer[:200]!r}")
                self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        document: dict[str, Any] = json.loads(line)
        return document

    async def closed(self, within: float = 10) -> bool:
        """True once the daemon has closed the connection (after any pending lines)."""
        with trio.fail_after(within):
            try:
                while await self.stream.receive_some(65536):
                    pass
            except trio.BrokenResourceError:
                pass  # a reset is a close too
        return True

    async def aclose(self) -> None:
        await self.stream.aclose()


@asynccontextmanager
async def running_daemon(extra_daemon: str = "", extra: str = "", *, database_url: str = "",
                         plugins: PluginManager | None = None,
                         components: Sequence[Component] | None = None,
                         text: str | None = None) -> AsyncIterator[Running]:
    with short_dir() as base:
        state, socket = base / "state", base / "control.sock"
        state.mkdir()
        path = base / "halosync.toml"
        path.write_text(text or config_text(state, socket, extra_daemon=extra_daemon, extra=extra,
                                            database_url=database_url))
        manager = plugins or PluginManager()
        config = loader.load(path, manager.config_specs())
        daemon = Daemon(config, manager,
                        components=list(components) if components is not None else [ControlComponent()])
        async with trio.open_nursery() as nursery:
            await nursery.start(daemon.serve)
            try:
                yield Running(daemon, Path(config.get("daemon.control_socket")), path)
            finally:
                daemon.request_stop()
