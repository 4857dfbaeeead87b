"""SQLite: one daemon per store. Several daemons need PostgreSQL (issue 18); a second one on the same SQLite file
would poll every source again and write beside the first, so it is refused at start.

The running daemon holds an exclusive ``flock`` on ``<database>.daemon.lock`` (its pid written inside) for its
life; ``flock`` locks vanish with the process, so a crashed daemon never leaves it behind. ``halosync diagnose``
looks at the same lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from halosync.errors import StoreError


class SecondDaemon(StoreError):
    """Another daemon already runs on this SQLite store."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".daemon.lock")


def holder(database: Path) -> int | None:
    """The pid of the daemon running on this SQLite store, or None when none does."""
    path = lock_path(database)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = path.read_text(encoding="ascii", errors="replace").strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def take(database: Path) -> int:
    """Take the lock for this daemon's life; the descriptor to close at the end. Raises SecondDaemon."""
    path = lock_path(database)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        pid = holder(database)
        raise SecondDaemon(
            f"another halosync daemon (pid {pid}) already runs on the SQLite store {database}; one daemon per "
            "SQLite store: to run several daemons (failover), give them one PostgreSQL store ([database] url = "
            "\"postgresql://...\", see the README's \"Running two or three daemons\")") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd
