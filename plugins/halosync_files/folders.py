"""The watched folder: which files are ready to read, and moving them aside once the store has them.

Only the folder's own files are read (not its subfolders, so processed/ and failed/ are never read again), in the
order they arrived (modification time, then name). Skipped: hidden files, Excel's ``~$`` lock files, partial
downloads (``.part``, ``.crdownload``, ``.tmp``) and files changed in the last ``settle`` seconds (still being
copied). A moved file keeps its name; when processed/ already has one of that name, a time stamp is added.
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Sequence
from pathlib import Path

PROCESSED = "processed"
FAILED = "failed"
PARTIAL = (".part", ".crdownload", ".tmp", ".partial")


def ready(folder: Path, patterns: Sequence[str], *, settle: float, now: float | None = None) -> list[Path]:
    now = time.time() if now is None else now
    found: list[tuple[float, str, Path]] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith((".", "~$")) or name.endswith(PARTIAL) or not entry.is_file():
                continue
            if not any(fnmatch.fnmatch(name.lower(), p.lower()) for p in patterns):
                continue
            mtime = entry.stat().st_mtime
            if now - mtime < settle:
                continue
            found.append((mtime, name, Path(entry.path)))
    return [p for _, _, p in sorted(found)]


def move_aside(path: Path, where: str, *, reason: str = "") -> Path:
    """Move ``path`` into its folder's ``where`` subfolder; with ``reason``, write it beside the file."""
    target_dir = path.parent / where
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        stamp = time.strftime("%Y%m%dT%H%M%S")
        target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
        n = 1
        while target.exists():
            target = target_dir / f"{path.stem}.{stamp}-{n}{path.suffix}"
            n += 1
    os.replace(path, target)
    if reason:
        target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    return target
