"""SQLite: copy the write-ahead log back into the database from a thread of its own.

By default SQLite checkpoints inside whichever commit pushes the WAL past 1,000 pages, so every few transactions
one of them also copies megabytes of pages into the database file, in the one database thread the whole pipeline
waits on. The daemon instead turns that threshold up to a safety bound (``SAFETY_PAGES``: only reached if this
task stops) and runs a PASSIVE checkpoint every ``EVERY`` seconds on a connection of its own, which releases the
GIL while it copies, so the work moves to the other core. PASSIVE never waits for readers or writers: a page a
reader still needs stays in the WAL for the next round.
"""

from __future__ import annotations

import sqlite3
import threading

import trio
from loguru import logger

EVERY = 0.5  # seconds between checkpoints
SAFETY_PAGES = 20_000  # wal_autocheckpoint while this runs: about 80 MB of WAL before a commit checkpoints itself
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024  # after a checkpoint, a WAL file larger than this is truncated to it


class WalCheckpointer:
    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.rounds = 0
        self.pages = 0  # pages copied into the database so far
        self._db: sqlite3.Connection | None = None

    async def run(self) -> None:
        """Checkpoint every ``EVERY`` seconds until cancelled, from a thread of its own. Not one of trio's
        worker threads: the store's next unit of work could land on that thread and open a second store
        connection there, with a second page cache that each connection's commits invalidate for the other."""
        stop = threading.Event()
        thread = threading.Thread(target=self._loop, args=(stop,), name="halosync-wal-checkpoint", daemon=True)
        thread.start()
        try:
            await trio.sleep_forever()
        finally:
            stop.set()
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(thread.join)

    def _loop(self, stop: threading.Event) -> None:
        """A failed round is logged and tried again: the safety bound keeps the WAL from growing without end."""
        try:
            while not stop.wait(EVERY):
                try:
                    self.checkpoint()
                except sqlite3.Error as exc:
                    logger.warning("checkpointing the SQLite write-ahead log failed (retried in {} s): {}",
                                   EVERY, exc)
        finally:
            self.close()

    def checkpoint(self) -> tuple[int, int]:
        """One PASSIVE checkpoint; returns (frames in the WAL, frames copied)."""
        if self._db is None:
            self._db = sqlite3.connect(self.path, timeout=self.timeout, check_same_thread=False,
                                       isolation_level=None)
            self._db.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
        _, frames, copied = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.rounds += 1
        self.pages += max(0, copied)
        return frames, copied

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
