"""A real NOTIFY_SOCKET: a Unix datagram socket bound in the test, read the way systemd reads it."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import trio


class NotifySocket:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.seen: list[str] = []  # every datagram received so far, in order

    async def receive(self, within: float = 10.0) -> str:
        with trio.fail_after(within):
            data = await self.sock.recv(65536)
        message = data.decode("utf-8")
        self.seen.append(message)
        return message

    async def until(self, predicate: Callable[[str], bool], within: float = 10.0) -> str:
        """Receive datagrams until one satisfies ``predicate``; return it. Fails showing the last datagrams seen."""
        try:
            with trio.fail_after(within):
                while True:
                    message = await self.receive(within)
                    if predicate(message):
                        return message
        except trio.TooSlowError:
            raise AssertionError(f"waited {within:g} s for a datagram the test expects on NOTIFY_SOCKET; "
                                 f"last seen: {self.seen[-3:]!r}") from None

    def drain(self) -> list[str]:
        """Every datagram sent so far and not yet read (the daemon sends synchronously, so once the test knows the
        daemon reached a point, whatever it sent before is here): no waiting, so no guess at how long is enough."""
        out: list[str] = []
        while True:
            try:
                data = os.read(self.sock.fileno(), 65536)  # trio's sockets are non-blocking: empty raises
            except BlockingIOError:
                return out
            out.append(data.decode("utf-8"))
            self.seen.append(out[-1])


@pytest.fixture
async def notify_socket(tmp_path: Path) -> AsyncIterator[NotifySocket]:
    notify = NotifySocket(tmp_path / "notify.sock")
    await notify.sock.bind(str(notify.path))
    try:
        yield notify
    finally:
        notify.sock.close()


def lines(message: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in message.split("\n") if "=" in line)
