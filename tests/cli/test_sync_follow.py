"""`halosyncctl sync --follow` against a real daemon and the fakes, HaloPSA slowed down so that writes are still
queued when the pull ends: it follows until the writes are done too (its totals are then what HaloPSA holds and
what `status` says), shows how far the pull is of the total Apollo reports, and stops with exit 1 when the writes
cannot go on by themselves (the daemon is paused)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

from halosync_apollo.fake import GeneratorSpec
from tests.control.test_engine_control import engine_daemon, first_pull_done
from tests.waiting import until

Capsys = pytest.CaptureFixture[str]
HALO_LATENCY = 0.04  # seconds per HaloPSA answer: 60 leads take seconds to write, far longer than their pull


def contacts(count: int, seed: int) -> GeneratorSpec:
    return GeneratorSpec(count=count, seed=seed, duplicate_share=0.0, hard_negative_share=0.0,
                         missing_email_share=0.0)


def progress(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("type") == "progress"]


async def test_follow_waits_for_the_writes_and_reports_the_totals_status_then_shows(capsys: Capsys) -> None:
    async with engine_daemon() as (running, fakes):
        await first_pull_done(running, capsys)
        fakes.halo.settings.latency = HALO_LATENCY
        fakes.apollo.generate(contacts(60, seed=11))
        code, followed = await running.ctl_json(capsys, "sync", "--follow", "--full")
        assert code == 0
        # Nothing is left the moment it returns: no lead to match, no row pending or in flight.
        _, queue = await running.ctl_json(capsys, "queue")
        assert (queue["staged_pending"], queue["pending"], queue["in_flight"]) == (0, 0, 0)
        users = len(fakes.halo.records("users"))
        assert users >= 60
        totals = followed["summary"]["totals"]
        assert totals["created"] == users  # HaloPSA's count, not the count when the pull ended
        _, status = await running.ctl_json(capsys, "status")
        assert status["totals"]["created"] == totals["created"]
        writes = [e for e in followed["events"] if e["type"] == "writes"]
        assert writes[0]["pending"] + writes[0]["in_flight"] + writes[0]["staged_pending"] > 0  # it did wait
        assert followed["writes"]["stopped"] is None and followed["writes"]["seconds"] > 0
        # Apollo's total_entries, carried from the source through the pull's progress.
        last = progress(followed["events"])[-1]
        assert last["total"] == 60 and last["staged"] + last["unchanged"] + last["rejected"] == 60


async def test_follow_in_text_shows_the_share_of_the_total_and_the_writes(capsys: Capsys) -> None:
    async with engine_daemon() as (running, fakes):
        await first_pull_done(running, capsys)
        fakes.halo.settings.latency = HALO_LATENCY
        fakes.apollo.generate(contacts(40, seed=12))
        code, out, err = await running.ctl(capsys, "sync", "--follow", "--full")
        assert code == 0, err
        assert "(100% of 40)" in out
        assert "writing: " in out and " pending, " in out and " in flight" in out
        assert "every write done " in out and "s after the pull ended" in out
        code, out, _ = await running.ctl(capsys, "sync", "--follow", "--full", "--quiet")
        assert code == 0 and "writing" not in out and "progress" not in out and "totals" in out


async def test_follow_stops_with_exit_1_when_the_daemon_is_paused(capsys: Capsys) -> None:
    async with engine_daemon() as (running, fakes):
        await first_pull_done(running, capsys)
        await running.ctl_json(capsys, "pause")
        fakes.apollo.generate(contacts(20, seed=13))
        code, out, err = await running.ctl(capsys, "sync", "--follow")
        assert "totals" in out  # what was done so far is still shown
        assert code == 1
        assert "write(s) are still waiting: the daemon is paused" in err and "halosyncctl resume" in err
        await running.ctl_json(capsys, "resume")

        async def drained() -> bool:
            queue = (await running.ctl_json(capsys, "queue"))[1]
            return bool(queue["pending"] + queue["in_flight"] + queue["staged_pending"] == 0)

        await until(drained, what="the queue drained after resume")


async def test_a_dry_run_follows_its_reading_of_the_total_and_no_writes(capsys: Capsys) -> None:
    async with engine_daemon(25) as (running, _fakes):
        await first_pull_done(running, capsys)
        code, out, err = await running.ctl(capsys, "sync", "--follow", "--full", "--dry-run")
        assert code == 0, err
        assert "read=25" in out and "(100% of 25)" in out and "dry run: nothing written" in out
        assert "writing" not in out and "every write done" not in out


def follow_in_a_terminal(socket: str) -> tuple[int, str]:
    """`halosyncctl sync --follow --full` with a pty as stdout, as an operator runs it: (exit code, screen)."""
    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm"}
    with subprocess.Popen([str(Path(sys.executable).parent / "halosyncctl"), "--socket", socket, "sync", "--follow",
                           "--full"], stdin=child, stdout=child, stderr=subprocess.STDOUT, env=env) as proc:
        os.close(child)
        seen = b""
        try:
            while True:
                ready, _, _ = select.select([main], [], [], 0.2)
                if ready:
                    try:
                        chunk = os.read(main, 65536)
                    except OSError:  # the child closed the terminal
                        break
                    if not chunk:
                        break
                    seen += chunk
                elif proc.poll() is not None:
                    break
            return proc.wait(timeout=60), seen.decode(errors="replace")
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(main)


async def test_in_a_terminal_the_bar_shows_a_percentage_and_an_eta(capsys: Capsys) -> None:
    async with engine_daemon() as (running, fakes):
        await first_pull_done(running, capsys)
        fakes.halo.settings.latency = HALO_LATENCY
        fakes.apollo.generate(contacts(30, seed=14))
        code, screen = await trio.to_thread.run_sync(follow_in_a_terminal, str(running.socket))
        assert code == 0, screen[-3000:]
        assert "100%" in screen and "ETA" in screen and "30 of 30 leads" in screen
        assert "writing: 0 to match, 0 pending, 0 in flight" in screen and " done" in screen
