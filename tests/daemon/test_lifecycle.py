"""Daemon lifecycle in-process: READY after the last component, watchdog only while the heartbeat is fresh,
graceful drain within the grace period, reload that swaps plugin objects or keeps the old configuration."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import trio

from halosync import hookimpl, log
from halosync.config import loader
from halosync.contracts import CheckResult, RateWindow, SourcePage
from halosync.daemon.app import Daemon
from halosync.daemon.notify import Notifier
from halosync.plugin.host import PluginHost
from halosync.plugin.manager import PluginManager
from tests.daemon.conftest import NotifySocket
from tests.waiting import until


class Gated:
    """A component that reports ready only when the test opens its gate, and drains for ``drain_time``."""

    def __init__(self, name: str, drain_time: float = 0.0) -> None:
        self.name = name
        self.gate = trio.Event()
        self.drain_time = drain_time
        self.drained = False

    async def run(self, daemon: Daemon, *, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        await self.gate.wait()
        task_status.started()
        await trio.sleep_forever()

    async def drain(self, daemon: Daemon) -> None:
        await trio.sleep(self.drain_time)
        self.drained = True


class Source:
    closed: list[str] = []  # noqa: RUF012  # names of closed instances, across instances

    def __init__(self, name: str, label: str) -> None:
        self.name, self.label = name, label

    async def pull(self, cursor: str | None, *, full: bool = False) -> AsyncIterator[SourcePage]:
        yield SourcePage([], None)

    async def checks(self) -> list[CheckResult]:
        return []

    def rate_limits(self) -> list[RateWindow]:
        return []

    async def aclose(self) -> None:
        Source.closed.append(self.label)


class Plugin:
    @hookimpl
    def halosync_sources(self, host: PluginHost) -> list[Any]:
        interval = host.config.get("sync.interval")
        return [Source("toy", f"interval={interval:g}")]


def make_daemon(tmp_path: Path, notify: NotifySocket, components: list[Any], text: str = "") -> Daemon:
    path = tmp_path / "halosync.toml"
    path.write_text(f'[daemon]\nstate_dir = "{tmp_path}/state"\nwatchdog_stale_after = 1\n{text}')
    plugins = PluginManager()
    plugins.register(Plugin(), "toy")
    config = loader.load(path, plugins.config_specs(), environ={})
    return Daemon(config, plugins, notifier=Notifier({"NOTIFY_SOCKET": str(notify.path)}), components=components)


async def test_ready_only_after_every_component(tmp_path: Path, notify_socket: NotifySocket) -> None:
    first, second = Gated("first"), Gated("second", drain_time=0.05)
    daemon = make_daemon(tmp_path, notify_socket, [first, second])
    async with trio.open_nursery() as nursery:
        nursery.start_soon(daemon.serve)
        assert await notify_socket.until(lambda m: "first" in m) == "STATUS=starting: first"
        first.gate.set()
        assert await notify_socket.until(lambda m: "second" in m) == "STATUS=starting: second"
        assert not [m for m in notify_socket.drain() if "READY" in m]  # the second component has not started yet
        assert daemon.state == "starting"
        second.gate.set()
        assert await notify_socket.until(lambda m: "READY" in m) == "READY=1\nSTATUS=running: 1 source(s), 0 sink(s)"
        # mypy keeps the narrowing to "starting" from above; the daemon's own task has changed the state since
        assert daemon.state == "running"  # type: ignore[comparison-overlap]
        daemon.request_stop()
        assert await notify_socket.receive() == "STOPPING=1"
    assert second.drained and daemon.state == "stopping"


async def test_drain_is_cut_at_the_grace_period(tmp_path: Path, notify_socket: NotifySocket,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    log.setup()
    slow = Gated("slow", drain_time=60)
    slow.gate.set()
    daemon = make_daemon(tmp_path, notify_socket, [slow], "shutdown_grace = 0.2\n")
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.serve)
        daemon.request_stop(0)
    assert not slow.drained
    assert "shutdown grace of 0.2 s ran out; unfinished writes resume at next start" in capsys.readouterr().err


async def test_watchdog_pings_only_while_the_heartbeat_is_fresh(
        tmp_path: Path, notify_socket: NotifySocket, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    log.setup()
    monkeypatch.setenv("WATCHDOG_USEC", "100000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    daemon = make_daemon(tmp_path, notify_socket, [])
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.serve)
        daemon.engine = SimpleNamespace(installed=True, paused=False)  # an engine now owns the heartbeat
        await notify_socket.until(lambda m: m == "WATCHDOG=1", within=1)
        daemon.heartbeat = time.monotonic() - 5  # the main loop stopped turning
        withheld = daemon.withheld_pings
        await until(lambda: daemon.withheld_pings, lambda n: n > withheld, what="the watchdog to see the stale beat")
        notify_socket.drain()  # pings sent before it saw it
        await until(lambda: daemon.withheld_pings, lambda n: n >= withheld + 3, what="three withheld pings")
        assert "WATCHDOG=1" not in notify_socket.drain()
        daemon.beat()
        await notify_socket.until(lambda m: m == "WATCHDOG=1", within=1)
        daemon.request_stop()
    assert "withholding watchdog pings so that systemd restarts the daemon" in capsys.readouterr().err


async def test_watchdog_for_another_pid_is_ignored(tmp_path: Path, notify_socket: NotifySocket,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "100000")
    monkeypatch.setenv("WATCHDOG_PID", "1")
    daemon = make_daemon(tmp_path, notify_socket, [])
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.serve)
        await until(lambda: daemon.watchdog_state, lambda state: state == "off", what="the watchdog to stand down")
        assert "WATCHDOG=1" not in notify_socket.drain()
        daemon.request_stop()


async def test_reload_swaps_plugins_or_keeps_the_old_config(tmp_path: Path, notify_socket: NotifySocket) -> None:
    Source.closed.clear()
    daemon = make_daemon(tmp_path, notify_socket, [], "[sync]\ninterval = 60\n")
    path = tmp_path / "halosync.toml"
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.serve)
        assert [s.label for s in daemon.sources.values()] == ["interval=60"]  # type: ignore[attr-defined]
        path.write_text(path.read_text().replace("interval = 60", "interval = 90"))
        assert await daemon.reload()
        assert daemon.config.get("sync.interval") == 90.0
        assert [s.label for s in daemon.sources.values()] == ["interval=90"]  # type: ignore[attr-defined]
        assert Source.closed == ["interval=60"]  # the old object was closed after the switch
        path.write_text(path.read_text().replace("interval = 90", "interval = -1"))
        assert not await daemon.reload()
        assert daemon.config.get("sync.interval") == 90.0
        (tmp_path / "file").write_text("")
        path.write_text(path.read_text().replace("interval = -1", "interval = 120").replace(
            "[daemon]\n", f'[daemon]\nlog_dir = "{tmp_path}/file/logs"\n'))
        assert not await daemon.reload()  # a valid file whose log_dir cannot be written
        assert daemon.config.get("sync.interval") == 90.0
        daemon.request_stop()
    assert Source.closed == ["interval=60", "interval=90"]


async def test_run_once_without_an_engine_ends(tmp_path: Path, notify_socket: NotifySocket) -> None:
    daemon = make_daemon(tmp_path, notify_socket, [])
    daemon.once = True
    with trio.fail_after(5):
        assert await daemon.serve() == 0
