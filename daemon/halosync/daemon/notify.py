"""systemd notifications (``sd_notify``), wrapped so the daemon never fails because systemd is absent.

sdnotify silently does nothing without ``$NOTIFY_SOCKET`` and has no MONOTONIC_USEC helper; this adds the reload
message systemd >= 253 expects (RELOADING=1 with MONOTONIC_USEC in the same datagram) and keeps one socket open.
"""

from __future__ import annotations

import time

import sdnotify


class Notifier:
    def __init__(self) -> None:
        self._sd = sdnotify.SystemdNotifier()

    def send(self, *lines: str) -> None:
        self._sd.notify("\n".join(lines))

    def ready(self, status: str = "") -> None:
        self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")

    def reloading(self) -> None:
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.send("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> None:
        self.send("STOPPING=1")
