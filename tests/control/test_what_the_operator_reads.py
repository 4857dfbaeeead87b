"""What `halosyncctl` prints for a person (issue 15): tables that fit the terminal and wrap rather than cut, a dry-run
plan summarised with a way to see it all, and a manual sync while paused that says so."""

from __future__ import annotations

import re

import pytest

from halosync.store.models import DeadLetter
from halosync_apollo.fake import GeneratorSpec
from tests.control.harness import running_daemon
from tests.control.test_engine_control import engine_daemon, first_pull_done
from tests.inspect.test_inspect_store import two_records_numbered_61

Capsys = pytest.CaptureFixture[str]
REASON = ("HTTP 400: the phone number '+44 20 7946 0958 ext 1234' is not valid for the site's country; fix it in "
          "Apollo or set halopsa.phone_format = \"raw\" (support-ticket-reference-0123456789abcdef)")


def flat_text(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def last_column(text: str) -> str:
    """The text of the last column (or of a block's values), lines joined, spaces dropped: the wrapping and
    folding a width imposes taken back out."""
    parts = [line.rsplit("│", 1)[-1] if "│" in line else line for line in text.splitlines()]
    return re.sub(r"\s+", "", "".join(parts))


@pytest.mark.parametrize("columns", ["80", "120", "200"])
async def test_a_dead_letter_reason_and_every_header_are_shown_whole_at_any_width(
        capsys: Capsys, monkeypatch: pytest.MonkeyPatch, columns: str) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    async with running_daemon() as running:
        await running.daemon.store.run(lambda: DeadLetter.create(
            stage="write", source="apollo", source_id="6571a0c1e4b0f1a2b3c4d5e1", sink="halopsa", outbox_id=7,
            reason=REASON, attempts=8))
        code, out, _ = await running.ctl(capsys, "dlq", "list")
    assert code == 1  # there are dead letters
    assert all(len(line) <= int(columns) for line in out.splitlines())
    assert REASON.replace(" ", "") in last_column(out)  # whole, however it wrapped
    for header in ("stage", "source", "source id", "reason", "attempts"):
        assert re.search(rf"(^|\s){header}(\s|$)", out), header
    assert "…" not in out


async def test_a_dry_run_plan_is_summarised_and_full_plan_lists_it_all(capsys: Capsys) -> None:
    async with engine_daemon() as (running, fakes):
        await first_pull_done(running, capsys)
        fakes.apollo.generate(GeneratorSpec(count=60, seed=3))  # after the scheduled pull: only the plan sees them
        code, out, _ = await running.ctl(capsys, "sync", "--dry-run", "--full", "--wait")
        assert code == 0 and "dry run: nothing written" in out
        assert "the sync would add to the totals" in out and "companies_created" in out
        assert "--full-plan lists them" in out
        creates = re.search(r"creates \((\d+), first 10\)", out)
        assert creates is not None and int(creates.group(1)) > 10
        short = len(out.splitlines())
        code, everything, _ = await running.ctl(capsys, "sync", "--dry-run", "--full", "--wait", "--full-plan")
        assert code == 0 and f"creates ({creates.group(1)})" in everything
        assert "--full-plan lists them" not in everything and len(everything.splitlines()) > short
        assert short < 120


async def test_a_manual_sync_while_paused_says_that_nothing_is_written(capsys: Capsys) -> None:
    async with engine_daemon(leads=5) as (running, _fakes):
        await running.ctl_json(capsys, "pause")
        code, out, _ = await running.ctl(capsys, "sync", "--wait")
        assert code == 0 and "the daemon is paused" in out and "halosyncctl resume" in out
        code, answer = await running.ctl_json(capsys, "sync")
        assert answer["paused"] is True
        await running.ctl_json(capsys, "resume")
        code, out, _ = await running.ctl(capsys, "sync", "--wait")
        assert "paused" not in out


async def test_trace_of_an_id_two_records_share_says_so(capsys: Capsys) -> None:
    async with running_daemon() as running:
        await running.daemon.store.run(two_records_numbered_61)
        code, out, _ = await running.ctl(capsys, "trace", "61")
        assert code == 0
        assert "61 names 2 different records: halopsa company 61, halopsa person 61" in flat_text(out)
        assert "halopsa:user:61" in out
        code, out, _ = await running.ctl(capsys, "trace", "halopsa:user:61")
        assert code == 0 and "apollo:a1" in out and "apollo:b1" not in out and "different records" not in out
