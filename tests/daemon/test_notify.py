"""The notifier speaks sd_notify's datagram protocol, and never fails the daemon when systemd is not listening."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
import trio

from halosync import log
from halosync.daemon.notify import Notifier
from tests.daemon.conftest import NotifySocket, lines


async def test_messages(notify_socket: NotifySocket) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(notify_socket.path)})
    assert notifier.enabled
    notifier.ready("running: 1 source(s)")
    assert await notify_socket.receive() == "READY=1\nSTATUS=running: 1 source(s)"
    notifier.status("syncing apollo → halopsa\nsecond line")
    assert await notify_socket.receive() == "STATUS=syncing apollo → halopsa second line"
    notifier.watchdog()
    assert await notify_socket.receive() == "WATCHDOG=1"
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    notifier.reloading()
    reloading = lines(await notify_socket.receive())
    assert reloading["RELOADING"] == "1"  # one datagram carries both, as systemd requires
    assert before <= int(reloading["MONOTONIC_USEC"]) <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    notifier.stopping()
    assert await notify_socket.receive() == "STOPPING=1"
    notifier.close()
    notifier.ready()  # closed: a no-op, not an error


def test_without_systemd_nothing_happens() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    notifier.ready("x")  # no socket, no error


def test_a_vanished_socket_is_reported_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log.setup()
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    notifier.ready()
    notifier.watchdog()
    err = capsys.readouterr().err
    assert err.count("cannot notify systemd at NOTIFY_SOCKET=") == 1


async def test_a_receiver_that_stops_reading_never_blocks_the_daemon(
        notify_socket: NotifySocket, capsys: pytest.CaptureFixture[str]) -> None:
    log.setup()
    notifier = Notifier({"NOTIFY_SOCKET": str(notify_socket.path)})
    started = time.monotonic()
    for _ in range(50):  # far more than the receiver's queue holds
        notifier.watchdog()
    assert time.monotonic() - started < 5
    assert capsys.readouterr().err.count("cannot notify systemd") == 1
    notifier.close()


async def test_an_abstract_namespace_socket_is_reached() -> None:
    """``NOTIFY_SOCKET=@name`` names a socket with no file (sd_notify(3)); systemd uses this form too."""
    name = f"halosync-test-notify-{os.getpid()}-{time.monotonic_ns()}"
    receiver = trio.socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    await receiver.bind("\0" + name)
    try:
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name})
        assert notifier.enabled
        notifier.ready("ü")
        with trio.fail_after(10):
            assert (await receiver.recv(65536)).decode("utf-8") == "READY=1\nSTATUS=ü"
        notifier.close()
    finally:
        receiver.close()
