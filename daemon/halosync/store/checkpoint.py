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

import trio
from loguru import logger

EVERY = 0.5  # seconds between checkpoints
SAFETY_PAGES = 20_000  # wal_autocheckpoint while this runs: about 80 MB of WAL before a commit checkpoints itself
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024  # after a checkpoint, a WAL file larger than this is truncated to it


class WalCheckpointer:
    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.limiter = trio.CapacityLimiter(1)  # not the store's: a checkpoint must not hold up its work
        self.rounds = 0
        self.pages = 0  # pages copied into the database so far
        self._db: sqlite3.Connection | None = None

    async def run(self) -> None:
        """Checkpoint every ``EVERY`` seconds until cancelled. A failed round is logged and tried again: the
        safety bound keeps the WAL from growing without end meanwhile."""
        try:
            while True:
                await trio.sleep(EVERY)
                try:
                    await trio.to_thread.run_sync(self.checkpoint, limiter=self.limiter)
                except sqlite3.Error as exc:
                    logger.warning("checkpointing the SQLite write-ahead log failed (retried in {} s): {}",
                                   EVERY, exc)
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(self.close, limiter=self.limiter)

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
