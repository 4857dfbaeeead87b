"""File-import source: rows/s and peak RSS reading a 1,000,000-row CSV export (the ZoomInfo layout: 19 columns,
~190 bytes a row), then the same file dropped again edited (1% of rows changed), then `halosync import` of a
100,000-row file into SQLite (staging included). Each measurement runs in a process of its own, so peak RSS is
that of the pull alone; `rss before` is the same process after its imports, so the difference is what reading
the file costs. --quick: 100,000 and 20,000 rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from halosync_files.fake.generator import people, write_csv

TITLE = "file source"
Row = tuple[str, float | int | str, str, str]


def _child(*args: str) -> dict[str, Any]:
    env = {**os.environ, "HALOSYNC_LOG_LEVEL": "warning"}
    out = subprocess.run([sys.executable, "-m", "tests.bench.files_child", *args], check=True, capture_output=True,
                         text=True, env=env).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def run(quick: bool) -> list[Row]:
    big, staged = (100_000, 20_000) if quick else (1_000_000, 100_000)
    with tempfile.TemporaryDirectory(prefix="halosync-bench-files-") as tmp:
        root = Path(tmp)
        inbox, state = root / "inbox", root / "state" / "files.sqlite3"
        inbox.mkdir()
        path = write_csv(inbox / "zoominfo.csv", "zoominfo", people(big, seed=1))
        size_mb = path.stat().st_size / 1e6
        first = _child(str(inbox), str(state), "pull")
        assert first["leads"] == big, first
        settle = _child(str(inbox), str(state), "pull", first["cursor"])  # promotes the baseline, moves the file
        edited = (p if p.n % 100 else p.__class__(**{**p.__dict__, "title": "Changed"}) for p in people(big, seed=1))
        write_csv(inbox / "zoominfo.csv", "zoominfo", edited)
        again = _child(str(inbox), str(state), "pull", settle["cursor"])
        assert again["leads"] == big // 100, again

        imp = root / "import"
        imp.mkdir()
        (imp / "inbox").mkdir()
        config = imp / "halosync.toml"
        config.write_text(f'[daemon]\nstate_dir = "{imp / "state"}"\n\n[database]\nurl = "sqlite:///{imp / "h.db"}"'
                          f'\n\n[plugins.files]\nfolder = "{imp / "inbox"}"\n', encoding="utf-8")
        export = write_csv(imp / "lusha.csv", "lusha", people(staged, seed=2))
        imported = _child(str(imp / "inbox"), str(imp / "state"), "import", str(config), str(export))
        assert imported["code"] == 0, imported
    return [
        (f"rows read+mapped/s ({big:,}-row CSV, {size_mb:.0f} MB)", round(big / first["seconds"]), "rows/s",
         ">= 20,000"),
        ("peak RSS of that pull", round(first["peak_rss_mb"], 1), "MB", "bounded: not growing with the file"),
        ("  of which the process before the pull", round(first["rss_before_mb"], 1), "MB", ""),
        (f"edited re-drop, {big // 100:,} rows changed: rows/s", round(big / again["seconds"]), "rows/s", ""),
        ("peak RSS of the edited re-drop", round(again["peak_rss_mb"], 1), "MB", ""),
        (f"halosync import of {staged:,} rows into SQLite (staged)", round(staged / imported["seconds"]), "rows/s",
         ""),
        ("peak RSS of that import", round(imported["peak_rss_mb"], 1), "MB", ""),
    ]
