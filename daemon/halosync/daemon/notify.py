"""systemd notifications (``sd_notify``), wrapped so the daemon never fails because systemd is absent.

The protocol is one datagram of ``KEY=value`` lines on the ``AF_UNIX`` socket named by ``$NOTIFY_SOCKET``
(sd_notify(3)); no library is needed. This module connects the socket (a path, or ``@name`` in the abstract
namespace; closed on failure), adds the reload message systemd >= 253 expects (RELOADING=1 with MONOTONIC_USEC in
the same datagram), sends UTF-8, keeps STATUS= to one line, and logs a failure to notify once (a missing READY=1
makes systemd kill the unit, so a silent failure would be a mystery).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping

from loguru import logger

SEND_TIMEOUT = 0.5  # seconds one notification may wait for room in the receiver's queue


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = env.get("NOTIFY_SOCKET", "")
        self._sock: socket.socket | None = None
        self._warned = False
        self._congested = False
        if self.address:
            try:
                self._sock = _connect(self.address)
            except OSError as exc:
                self._fail(exc)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, *lines: str) -> None:
        """Send one datagram of ``KEY=value`` lines (a no-op outside systemd)."""
        if self._sock is None:
            return
        try:
            self._sock.sendall("\n".join(lines).encode("utf-8"))
        except (TimeoutError, BlockingIOError) as exc:
            # Congested: stop waiting (drop messages) until the receiver reads again; one stall per episode.
            self._sock.settimeout(0)
            self._congested = True
            self._fail(exc)
        except OSError as exc:
            self._fail(exc)
        else:
            if self._congested:
                self._congested = False
                self._sock.settimeout(SEND_TIMEOUT)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _fail(self, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            logger.warning("cannot notify systemd at NOTIFY_SOCKET={}: {}; READY/WATCHDOG may time out",
                           self.address, exc)

    def ready(self, status: str = "") -> None:
        self.send("READY=1", *([_status(status)] if status else []))

    def status(self, text: str) -> None:
        self.send(_status(text))

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")

    def reloading(self) -> None:
        # systemd matches MONOTONIC_USEC against its own CLOCK_MONOTONIC reading to order reload and READY.
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.send("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> None:
        self.send("STOPPING=1")


def _connect(address: str) -> socket.socket:
    # A leading '@' names a socket in the abstract namespace (sd_notify(3)).
    target = "\0" + address[1:] if address.startswith("@") else address
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
    try:
        sock.connect(target)
    except OSError:
        sock.close()
        raise
    # A receiver that stops reading fills its queue (about ten datagrams on Linux); a send must then give up
    # rather than freeze the event loop (and with it the watchdog).
    sock.settimeout(SEND_TIMEOUT)
    return sock


def _status(text: str) -> str:
    return "STATUS=" + " ".join(text.split("\n"))
