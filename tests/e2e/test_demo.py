"""`halosync demo`: the README's first command runs by itself, with no credentials or configuration, and exits 0."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def figure(pattern: str, out: str) -> re.Match[str]:
    """The summary line ``pattern`` matches; fails showing the summary when the demo did not print it."""
    found = re.search(pattern, out)
    assert found, f"no line matching {pattern!r} in the demo's summary:\n{out[-3000:]}"
    return found


def test_demo_runs_end_to_end_and_summarises(tmp_path: Path) -> None:
    env = dict(os.environ, COLUMNS="120")
    env.pop("HALOSYNC_DISABLE_PLUGIN_AUTOLOAD", None)  # as a user runs it: plugins through entry points
    done = subprocess.run([sys.executable, "-m", "halosync.cli.main", "demo", "--leads", "150"], env=env,
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "control socket:" in out and "halosyncctl --socket" in out
    users, people = map(int, figure(r"HaloPSA users / real people in the sample\s*│\s*(\d+) / (\d+)", out).groups())
    assert users == people > 0
    assert int(figure(r"merged \(duplicates joined to one record\)\s*│\s*(\d+)", out).group(1)) > 0
    assert int(figure(r"dead letters\s*│\s*(\d+)", out).group(1)) == 0
