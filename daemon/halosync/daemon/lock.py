"""The state-dir lock: who may touch the state store right now.

Every running daemon holds a *shared* ``flock`` on ``STATE_DIR/halosync.lock`` for its whole life (several daemons
may share one PostgreSQL store, so daemons never exclude each other). ``halosync restore`` takes the lock
*exclusively*: it cannot while any daemon runs, and a daemon that starts during a restore refuses to start.
``flock`` locks vanish with the process, so a crashed daemon never leaves a stale lock behind.

An SQLite store has one writer, so it has one daemon: the daemon also holds an *exclusive* ``flock`` on
``DATABASE.daemon-lock`` beside the database file (its pid written inside, for ``halosync diagnose``), whatever
its state dir and control socket, and a second daemon on the same file is refused with exit 75 (try again later).
SQLite's own locks (``fcntl``) are not touched.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loguru import logger

from halosync.errors import StoreError
from halosync.exitcodes import EX_TEMPFAIL

LOCK_NAME = "halosync.lock"
DATABASE_LOCK_SUFFIX = ".daemon-lock"


class StoreBusy(StoreError):
    """The lock is held in a way that forbids what was asked (a daemon runs, or a restore is under way)."""


class StoreInUse(StoreBusy):
    """Another daemon runs on this SQLite database file."""

    exit_code = EX_TEMPFAIL


def database_lock_path(database: Path) -> Path:
    return database.with_name(database.name + DATABASE_LOCK_SUFFIX)


@contextmanager
def database_held(database: Path | None) -> Iterator[None]:
    """Hold the SQLite database alone for a daemon's life (nothing for PostgreSQL or an in-memory database: None).
    Raises StoreInUse while another daemon holds it. A lock file that cannot be made is left to the store, whose
    own open says why (a read-only directory cannot hold the database either)."""
    if database is None:
        yield
        return
    path = database_lock_path(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        logger.warning("cannot create the lock {} ({}); a second daemon on this database would not be refused",
                       path, exc.strerror or exc)
        yield
        return
    try:
        if not _try_lock(fd, fcntl.LOCK_EX):
            pid = database_holder(database)
            raise StoreInUse(
                f"another halosync daemon{f' (pid {pid})' if pid and pid > 0 else ''} runs on the SQLite store "
                f"{database} (it holds {path}); stop it first (`halosyncctl status` shows it). An SQLite store has "
                "one daemon: a second one needs its own database.url (and daemon.control_socket), or use a "
                "PostgreSQL store, which several daemons share (README: \"Running two or three daemons\")")
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


def database_holder(database: Path) -> int | None:
    """The pid of the daemon running on this SQLite store (-1 when its lock names none), or None when none does."""
    path = database_lock_path(database)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if _try_lock(fd, fcntl.LOCK_EX):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
        return int(text) if text.isdigit() else -1
    finally:
        os.close(fd)


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

