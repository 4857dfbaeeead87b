"""The row hashes of every file version this source has read, so a re-dropped or edited file stages only what
changed. Kept in the plugin's own SQLite file under the daemon's state directory (``files/NAME.sqlite3``): a
million hashes do not belong in a cursor that is rewritten with every page.

Two tables: ``row_hash`` (identity, version, hash) holds the hashes of each version as it is read; ``baseline``
(identity -> version, seq) says which version of a file is fully staged. A version becomes the baseline only once
a committed cursor says its last page was staged (``promote``), and ``seq`` is that cursor's sequence number: when
the daemon's store goes back in time (a restore, a reset cursor), every baseline newer than the cursor is
forgotten and those files are read in full again (``forget_after``). Nothing is ever skipped that the store has
not staged.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS row_hash (identity TEXT NOT NULL, version TEXT NOT NULL, hash INTEGER NOT NULL,
                                     PRIMARY KEY (identity, version, hash)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS baseline (identity TEXT PRIMARY KEY, version TEXT NOT NULL, seq INTEGER NOT NULL);
"""
BATCH = 500  # host parameters per IN (...) query, well under SQLite's limit


def row_hash(salt: bytes, cells: Sequence[str]) -> int:
    """A signed 64-bit hash of a row's cells (``salt``: the mapping, so a changed mapping reads rows anew)."""
    h = hashlib.blake2b(salt, digest_size=8)
    h.update("\x1f".join(cells).encode("utf-8", "surrogatepass"))
    return int.from_bytes(h.digest(), "big", signed=True)


class RowState:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def baseline(self, identity: str) -> str | None:
        row = self.db.execute("SELECT version FROM baseline WHERE identity = ?", (identity,)).fetchone()
        return str(row[0]) if row else None

    def known(self, identity: str, version: str, hashes: Sequence[int]) -> set[int]:
        """Which of ``hashes`` the given version of the file holds."""
        found: set[int] = set()
        for i in range(0, len(hashes), BATCH):
            part = hashes[i:i + BATCH]
            marks = ",".join("?" * len(part))
            found.update(h for (h,) in self.db.execute(
                f"SELECT hash FROM row_hash WHERE identity = ? AND version = ? AND hash IN ({marks})",
                (identity, version, *part)))
        return found

    def record(self, identity: str, version: str, hashes: Iterable[int]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR IGNORE INTO row_hash VALUES (?, ?, ?)",
                                ((identity, version, h) for h in hashes))

    def promote(self, identity: str, version: str, seq: int) -> None:
        """``version`` is fully staged: it is the baseline now; older versions' hashes go."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("INSERT INTO baseline VALUES (?, ?, ?) ON CONFLICT (identity) DO UPDATE SET "
                            "version = excluded.version, seq = excluded.seq", (identity, version, seq))
            self.db.execute("DELETE FROM row_hash WHERE identity = ? AND version <> ?", (identity, version))

    def forget_after(self, seq: int) -> list[str]:
        """Drop the baselines promoted after cursor ``seq`` (the store does not have them); returns their files."""
        gone = [str(i) for (i,) in self.db.execute("SELECT identity FROM baseline WHERE seq > ?", (seq,))]
        if gone:
            with self.db:
                self.db.execute("BEGIN")
                self.db.executemany("DELETE FROM baseline WHERE identity = ?", ((i,) for i in gone))
        return gone
