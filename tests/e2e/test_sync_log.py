"""sync.log tells the story of a sync: a daemon against the fakes, with a lead that cannot be matched, writes that
fail and are retried, and `log_dir` set. Each pull and each sink batch is one info line; `grep ERROR sync.log`
finds every lead that failed, with its source id and reason; retries are warnings; JSON when log_format="json".
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import trio
from loguru import logger

from halosync import log
from halosync.cli.commands.demo import DEMO_KEY, DemoFakes, demo_plugins, load_config, write_config
from halosync.daemon.app import Daemon
from halosync.engine import pull
from halosync.engine.component import EngineComponent
from halosync.store.models import DeadLetter
from halosync_apollo.fake import Limits
from tests.failures.harness import HALOPSA, SYNC, FaultRig

NOBODY = "nobody0000000000000000001"  # a contact with nothing to match on: a dead letter at the match stage


@pytest.fixture(autouse=True)
def reset_logging() -> Iterator[None]:
    yield
    logger.remove()
    logging.basicConfig(handlers=[], force=True)


@pytest.fixture
async def rig(tmp_path: Path, sqlite_url: str) -> AsyncIterator[FaultRig]:
    fakes = DemoFakes.create(25, seed=5, halo_rate=100_000, duplicate_share=0.0)
    async with trio.open_nursery() as nursery:
        await fakes.serve(nursery)
        yield FaultRig(fakes, tmp_path, sqlite_url)
        nursery.cancel_scope.cancel()


def with_logs(rig: FaultRig, logs: Path, fmt: str, level: str = "info") -> Daemon:
    """The rig's daemon (run --once) with log_dir, log_format and log_level set, and the log set up from it."""
    path = write_config(rig.directory, rig.fakes.apollo_url, rig.fakes.halo_url, sync=SYNC, database_url=rig.db_url,
                        halopsa=HALOPSA, log_level=level)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[daemon]\n", f'[daemon]\nlog_dir = "{logs}"\nlog_format = "{fmt}"\n'),
                    encoding="utf-8")
    plugins = demo_plugins()
    daemon = Daemon(load_config(path, plugins), plugins, once=True, components=[EngineComponent()])
    log.setup(daemon.config)
    return daemon


async def run_with_faults(rig: FaultRig, logs: Path, fmt: str, level: str = "info") -> Daemon:
    rig.fakes.apollo.add_contacts([{"id": NOBODY, "title": "CEO"}])
    rig.fakes.halo.inject("500", method="POST", route="/api/users", times=2)  # two batches fail once, then pass
    daemon = with_logs(rig, logs, fmt, level)
    with trio.fail_after(60):
        assert await daemon.serve() == 1  # the one dead letter makes `run --once` exit 1
    await logger.complete()
    return daemon


async def test_sync_log_has_a_line_per_pull_and_batch_and_every_failure(rig: FaultRig, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    await run_with_faults(rig, logs, "text")
    sync = (logs / "sync.log").read_text(encoding="utf-8").splitlines()
    assert sync, "sync.log is empty"
    pulls = [line for line in sync if " INFO " in line and ": pulled " in line]
    assert len(pulls) == 1, sync
    people = len(rig.fakes.apollo.truth) + 1
    assert re.search(rf"apollo: pulled \d+ page\(s\) from start to \S+: seen {people}, staged {people}, "
                     rf"unchanged 0, rejected 0; \d+ request\(s\) in [\d.]+ s$", pulls[0]), pulls[0]
    batches = [line for line in sync if " INFO " in line and "halopsa: batch of " in line]
    created = sum(int(m.group(1)) for line in batches if (m := re.search(r"(?:: |, )created (\d+)", line)))
    assert created == len(rig.fakes.halo.records("users")) > 0  # the batch lines add up to what HaloPSA holds
    assert all(re.search(r"; \d+ request\(s\) in [\d.]+ s$", line) for line in batches), batches
    retries = [line for line in sync if " WARNING " in line and "retry: lead apollo:" in line]
    assert retries and all("HTTP 500" in line or "may have been carried out" in line for line in retries), sync
    # grep ERROR sync.log: every lead that failed, with its source id and reason, and nothing else
    errors = [line for line in sync if "ERROR" in line]
    dead = rig.query(lambda: [(d.source, d.source_id, d.reason) for d in DeadLetter.select()])
    assert len(errors) == len(dead) == 1, (errors, dead)
    source, source_id, reason = dead[0]
    assert f"lead {source}:{source_id} failed at match: {reason}" in errors[0] and source_id == NOBODY
    # ids and counts only: no lead's personal data (no e-mail address), and the API key never
    text = "\n".join(sync)
    assert "@" not in text and DEMO_KEY not in text
    assert (logs / "app.log").read_text(encoding="utf-8").count("apollo: pulled ") == 1  # all of it in app.log too


async def test_sync_log_is_json_when_log_format_is_json(rig: FaultRig, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    await run_with_faults(rig, logs, "json")
    records = [json.loads(line) for line in (logs / "sync.log").read_text(encoding="utf-8").splitlines()]
    assert {r["level"] for r in records} >= {"INFO", "WARNING", "ERROR"}
    errors = [r for r in records if r["level"] == "ERROR"]
    assert len(errors) == 1 and NOBODY in errors[0]["message"] and errors[0]["channel"] == "sync"


async def test_debug_logs_every_provider_request_without_secrets(rig: FaultRig, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    rig.fakes.apollo.set_limits("contacts/search", Limits(minute=200, hour=600, day=10_000))
    await run_with_faults(rig, logs, "text", level="debug")
    app = (logs / "app.log").read_text(encoding="utf-8")
    requests = [line for line in app.splitlines() if re.search(r" (apollo|halopsa): (GET|POST|PUT) \S+ -> ", line)]
    assert any(re.search(r"apollo: POST contacts/search -> 200 in [\d.]+ s; left: minute 19\d/200, "
                     r"hour 59\d/600, day 9,99\d/10,000", line)
               for line in requests), requests[:5]
    assert any(re.search(r"halopsa: POST /api/Users -> 500 in [\d.]+ s; left: rolling-5s \d", line, re.I)
               for line in requests), requests[:5]
    assert any("halopsa: POST /auth/token -> 200" in line for line in requests)
    for secret in (DEMO_KEY, "fake-secret", "Bearer"):
        assert secret not in app
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", app), "an e-mail address reached the log"


async def test_a_failed_pull_is_a_warning_in_sync_log(rig: FaultRig, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    rig.fakes.apollo.fail_next(5, 503)  # Apollo's five tries, every one refused
    daemon = with_logs(rig, logs, "text")
    with trio.fail_after(60):
        assert await daemon.serve() == 1
    await logger.complete()
    sync = (logs / "sync.log").read_text(encoding="utf-8").splitlines()
    failed = [line for line in sync if " WARNING " in line and "apollo: the pull failed after 0 page(s) from start"
              in line]
    assert len(failed) == 1 and "HTTP 503" in failed[0] and "5 request(s)" in failed[0], sync
    assert not any(": pulled " in line for line in sync)


async def test_a_long_pull_says_how_far_it_got(rig: FaultRig, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pull, "PROGRESS_EVERY", 0.0)  # every page is "a minute later"
    logs = tmp_path / "logs"
    await run_with_faults(rig, logs, "text")
    sync = (logs / "sync.log").read_text(encoding="utf-8").splitlines()
    progress = [line for line in sync if " INFO " in line and "apollo: pulling: " in line]
    people = len(rig.fakes.apollo.truth) + 1
    assert progress and re.search(rf"pulling: 1 page\(s\) so far, seen {people}, staged {people}; \d+ request\(s\)",
                                  progress[0]), progress
