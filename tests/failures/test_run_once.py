"""`run --once` against a failing source: exit 1 naming the source and its error, with the run's summary and each
dead letter printed; the next run, with the fault gone, delivers every lead once."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import trio

from halosync.cli.commands import run
from halosync.cli.commands.demo import DemoFakes
from tests.failures.harness import FaultRig

ONE_SHOT: dict[str, Callable[[DemoFakes], None]] = {
    "one 400": lambda f: f.apollo.fail_next(1, 400, {"error": "invalid label id"}),
    "one 401": lambda f: f.apollo.fail_next(1, 401, "Invalid API key."),
    "five 503s": lambda f: f.apollo.fail_next(5, 503),  # Apollo's five tries, every one refused
}
SHOWN = {"one 400": "invalid label id", "one 401": "HTTP 401", "five 503s": "HTTP 503"}


@pytest.fixture
async def rig(tmp_path: Path, db_url: str) -> AsyncIterator[FaultRig]:
    fakes = DemoFakes.create(30, seed=17, halo_rate=100_000, duplicate_share=0.0)
    async with trio.open_nursery() as nursery:
        await fakes.serve(nursery)
        yield FaultRig(fakes, tmp_path, db_url)
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("fault", list(ONE_SHOT))
async def test_run_once_exits_1_naming_the_source_and_prints_the_run(rig: FaultRig, fault: str,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    ONE_SHOT[fault](rig.fakes)
    rig.fakes.apollo.add_contacts([{"id": "nobody0000000000000000001", "title": "CEO"}])  # a lead that must fail
    daemon = rig.daemon(once=True)
    with trio.fail_after(60):
        assert await daemon.serve() == 1
    report = getattr(daemon.engine, "run_report", None)
    assert report is not None
    run.print_report(report, json=False)
    err = capsys.readouterr().err  # the log may write there too: the report is the lines after it
    first = next(line for line in err.splitlines() if line.startswith("run --once failed"))
    assert first.startswith("run --once failed: apollo: ") and SHOWN[fault] in first, err
    assert "this run: seen 0, created 0" in err  # the pull failed before anything was staged
    # The fault is gone: the next run delivers everything, and its one bad lead is listed with its reason.
    daemon = rig.daemon(once=True)
    with trio.fail_after(60):
        assert await daemon.serve() == 1
    report = getattr(daemon.engine, "run_report", None)
    assert report is not None and report.failures == {}
    run.print_report(report, json=False)
    err = capsys.readouterr().err
    assert "run --once failed: 1 dead letter(s)" in err
    assert f"created {len(set(rig.fakes.apollo.truth.values()))}" in err
    assert "dead letter 1 [match] apollo:nobody0000000000000000001" in err
    assert len(rig.fakes.halo.records("users")) == len(set(rig.fakes.apollo.truth.values()))
    print(err, file=sys.stderr)
