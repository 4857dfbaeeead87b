"""Small files the daemon keeps in its state directory (alert silences, alert state, alert ticket maps)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def replace_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically and durably: a crash or power loss leaves the old file or the new one,
    never half of one, and two writers at once each leave a whole text (the last rename wins).
    Raises OSError; callers say what not being able to save means for them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temp name of its own per call (a fixed ``.tmp`` lets two writers interleave into one file), in the same
    # directory so the rename stays within one file system and is atomic.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the rename makes it the file
        with contextlib.suppress(FileNotFoundError):  # mkstemp makes 0600: a replaced file keeps its own mode
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(path.parent)  # the rename itself survives a power loss


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

