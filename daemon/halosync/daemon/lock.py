"""The state-dir lock: who may touch the state store right now.

Every running daemon holds a *shared* ``flock`` on ``STATE_DIR/halosync.lock`` for its whole life (several daemons
may share one PostgreSQL store, so daemons never exclude each other). ``halosync restore`` takes the lock
*exclusively*: it cannot while any daemon runs, and a daemon that starts during a restore refuses to start.
``flock`` locks vanish with the process, so a crashed daemon never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loguru import logger

from halosync.errors import StoreError

LOCK_NAME = "halosync.lock"


class StoreBusy(StoreError):
    """The lock is held in a way that forbids what was asked (a daemon runs, or a restore is under way)."""


def lock_path(state_dir: Path) -> Path:
    return state_dir / LOCK_NAME


def _open(state_dir: Path) -> int:
    state_dir.mkdir(parents=True, exist_ok=True)
    # Read-only is enough for flock, and 0644 lets the daemon's user open a lock file that root created.
    return os.open(lock_path(state_dir), os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)


def _try_lock(fd: int, operation: int) -> bool:
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def held_by_daemon(state_dir: Path) -> Iterator[None]:
    """Hold the shared lock while a daemon runs. Raises StoreBusy while a restore has the store.

    A state dir where the lock file cannot be created is reported and the daemon carries on: the store itself
    may live elsewhere (PostgreSQL), and ``halosync diagnose`` names the unwritable state dir as a failure.
    """
    try:
        fd = _open(state_dir)
    except OSError as exc:
        logger.warning("cannot create the lock {} ({}); `halosync restore` cannot tell that this daemon runs",
                       lock_path(state_dir), exc.strerror or exc)
        yield
        return
    try:
        if not _try_lock(fd, fcntl.LOCK_SH):
            raise StoreBusy(f"a `halosync restore` holds the state store ({lock_path(state_dir)}); "
                            "wait for it to finish, then start the daemon again")
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def held_exclusively(state_dir: Path) -> Iterator[None]:
    """Hold the lock alone (for ``halosync restore``). Raises StoreBusy while any daemon runs."""
    try:
        fd = _open(state_dir)
    except OSError as exc:
        raise StoreError(f"cannot create the lock {lock_path(state_dir)}: {exc.strerror or exc}; "
                         "run as the daemon's user (sudo -u halosync) or make daemon.state_dir writable") from None
    try:
        if not _try_lock(fd, fcntl.LOCK_EX):
            raise StoreBusy(f"a running halosync daemon holds the state store ({lock_path(state_dir)}); "
                            "stop it first (`systemctl stop halosync`), restore, then start it again")
        yield
    finally:
        os.close(fd)

