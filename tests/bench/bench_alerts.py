"""Alerts: what one evaluation costs the daemon (every 15 s by default) and what a day of history holds.

A day of evaluations (5,760 at 15 s) of the built-in rules over 3 providers x 4 endpoints x 4 status classes of
provider metrics and 20 sources, on the alert clock advanced 15 s per evaluation; then one evaluation in which
1,000 cursor_stalled alerts fire at once and go to one receiver (grouping and de-duplication at scale).
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

import trio

from halosync import metrics
from tests.alerts.conftest import ReceiversPlugin, Recorder, alerts_running
from tests.bench.__main__ import Row

TITLE = "alerts"


async def _measure(quick: bool) -> list[Row]:
    for provider in ("bench-halopsa", "bench-apollo", "bench-other"):
        for endpoint in ("/api/Users", "/api/Client", "/api/Site", "/v1/contacts/search"):
            for status in (200, 429, 503, None):
                metrics.observe_provider_request(provider, endpoint, status, 0.3)
    evaluations = 500 if quick else 5760
    rows: list[Row] = []
    recorder = Recorder()
    with tempfile.TemporaryDirectory() as directory:
        toml = '[alerts.rules.cursor_stalled]\nreceivers = ["rec"]\n'
        async with alerts_running(Path(directory), toml, ReceiversPlugin(recorder)) as run:
            run.engine.sources = {f"source-{i}": {"cursor_age_seconds": 10.0} for i in range(20)}
            service = run.service
            tracemalloc.start()  # the day's allocations still held at its end: the history, mostly
            for _ in range(evaluations):
                service.clock.offset += 15.0
                await service.evaluate()
            current, _peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            timed = evaluations // 10  # timed apart: tracing slows Python down
            started = time.perf_counter()
            for _ in range(timed):
                service.clock.offset += 15.0
                await service.evaluate()
            elapsed = time.perf_counter() - started
            rows += [("evaluations", evaluations + timed, "", ""),
                     ("time per evaluation", elapsed / timed * 1e3, "ms", "< 50 (of a 15 s interval)"),
                     ("history kept", len(service.history), "snapshots", "a day in < 400"),
                     ("memory held by alerting after a day", current / 1e6, "MB", "< 10")]
            run.engine.sources = {f"source-{i}": {"cursor_age_seconds": 1e6} for i in range(1000)}
            service.clock.offset += 15.0
            started = time.perf_counter()
            await service.evaluate()
            burst = time.perf_counter() - started
            await trio.sleep(0.5)  # let the delivery task hand the group to the receiver
            rows += [("1,000 alerts firing at once: evaluation", burst * 1e3, "ms", "< 500"),
                     ("notifications for them", len(recorder.groups), "groups", "1 (group_by rule)")]
    return rows


def run(quick: bool) -> list[Row]:
    return trio.run(_measure, quick)
