"""`halosync demo`: the README's first command runs by itself, with no credentials or configuration, and exits 0."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
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
    assert "control socket:" in out and "--keep-running keeps it up to try halosyncctl" in out
    users, people = map(int, figure(r"HaloPSA users / real people in the sample\s*│\s*(\d+) / (\d+)", out).groups())
    assert users == people > 0
    assert int(figure(r"merged \(duplicates joined to one record\)\s*│\s*(\d+)", out).group(1)) > 0
    assert int(figure(r"dead letters\s*│\s*(\d+)", out).group(1)) == 0


def test_keep_running_serves_until_ctrl_c_and_its_hints_work(tmp_path: Path) -> None:
    """`halosync demo --keep-running`: after the summary the daemon stays up; the printed halosyncctl command (a full
    path: the venv's bin need not be on PATH) and the printed /health and /metrics URLs answer; Ctrl-C ends it."""
    import signal

    import httpx

    env = dict(os.environ, COLUMNS="200")
    env.pop("HALOSYNC_DISABLE_PLUGIN_AUTOLOAD", None)
    env["PATH"] = "/usr/bin:/bin"  # as after `make demo`: the venv is not on PATH
    demo = subprocess.Popen([sys.executable, "-m", "halosync.cli.main", "demo", "--leads", "60", "--keep-running"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert demo.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            assert line, f"the demo ended early: {''.join(seen)[-2000:]}"
            seen.append(line)
            if "webhooks/test" in line:
                break
        out = "".join(seen)
        assert "the demo keeps running" in out and "HaloPSA users created" in out
        status_line = next(line.strip() for line in seen if line.strip().endswith(" status"))
        ctl = status_line.split()[0]
        assert Path(ctl).is_absolute() and Path(ctl).name == "halosyncctl"
        status = subprocess.run([*status_line.split()[:-1], "--json", "status"], capture_output=True, text=True,
                                timeout=30, env=env)
        assert status.returncode == 0, status.stderr
        assert '"state": "running"' in status.stdout
        health_url = figure(r"curl -s (http://\S+/health)", out).group(1)
        assert httpx.get(health_url, timeout=10).json()["state"] == "running"
        assert "halosync_" in httpx.get(health_url.replace("/health", "/metrics"), timeout=10).text
        demo.send_signal(signal.SIGINT)
        rest, err = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, err[-3000:]
    assert "halosync demo: summary" in rest
