"""`halosyncctl top` against a real daemon with the sync engine and the fakes: one snapshot on a pipe (text and
JSON), and the live full-screen view in a real terminal (a pty) that refreshes until q is pressed."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import trio

from halosync_apollo.fake import GeneratorSpec
from tests.control.test_engine_control import engine_daemon, first_pull_done
from tests.waiting import until

Capsys = pytest.CaptureFixture[str]
CTL = Path(sys.executable).parent / "halosyncctl"


async def test_one_snapshot_when_stdout_is_not_a_terminal(capsys: Capsys) -> None:
    async with engine_daemon(30) as (running, fakes):
        await first_pull_done(running, capsys)

        async def written() -> int:
            return int((await running.ctl_json(capsys, "status"))[1]["totals"]["created"])

        await until(written, lambda n: n > 0, what="first users created")
        code, out, err = await running.ctl(capsys, "top")
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].startswith("halosync top  running  v")
        _, status = await running.ctl_json(capsys, "status")
        source = next(line for line in lines if line.startswith("apollo "))
        sink = next(line for line in lines if line.startswith("halopsa "))
        assert status["plugins"]["apollo"]["state"] in source and status["plugins"]["halopsa"]["state"] in sink
        assert re.search(r"[\d,]+/[\d,]+ per ", sink), sink  # HaloPSA's budget left, as last observed
        assert "totals" in out and "queue" in out and "figures as of" in out
        assert "q or Ctrl-C" not in out  # not live: nothing to leave
        code, snapshot = await running.ctl_json(capsys, "top")
        assert code == 0 and set(snapshot) == {"status", "queue", "rate_limits"}
        assert snapshot["status"]["totals"]["created"] > 0
        assert any(w["provider"] == "halopsa" for w in snapshot["rate_limits"])
        assert len(fakes.halo.records("users")) > 0


def read_screen(fd: int, until_text: list[str], within: float) -> str:
    """Read a pty until every text of ``until_text`` is on it (or the time is up); the whole output."""
    seen = b""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
        text = seen.decode(errors="replace")
        if all(t in text for t in until_text):
            return text
    return seen.decode(errors="replace")


def live_top(socket: Path) -> tuple[int, str, str]:
    """Run `halosyncctl top` in a terminal, let it refresh a few times, press q: (exit code, screen, stderr)."""
    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": "160", "LINES": "50", "TERM": "xterm"}
    with subprocess.Popen([str(CTL), "--socket", str(socket), "top", "--interval", "0.2"], stdin=child,
                          stdout=child, stderr=subprocess.PIPE, env=env) as proc:
        os.close(child)
        try:
            screen = read_screen(main, ["\x1b[?1049h", "halosync top", "halopsa"], within=20)
            more = read_screen(main, ["halosync top"], within=5)  # the live view redraws itself each refresh
            frames = screen.count("halosync top") + more.count("halosync top")
            os.write(main, b"q")
            code = proc.wait(timeout=20)
            screen += more + read_screen(main, ["\x1b[?1049l"], within=5)
            assert proc.stderr is not None
            return code, screen + f"\nframes={frames}", proc.stderr.read().decode()
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(main)


async def test_live_view_refreshes_in_a_terminal_until_q(capsys: Capsys) -> None:
    async with engine_daemon(10) as (running, fakes):
        await first_pull_done(running, capsys)
        fakes.apollo.generate(GeneratorSpec(count=5, seed=3))
        code, screen, err = await trio.to_thread.run_sync(live_top, running.socket)
        assert code == 0, err
        assert "\x1b[?1049h" in screen and "\x1b[?1049l" in screen  # the alternate screen, left again
        assert "q or Ctrl-C leaves" in screen and "sources" in screen and "sinks" in screen
        frames = int(screen.rsplit("frames=", 1)[1])
        assert frames >= 2, screen[-2000:]
