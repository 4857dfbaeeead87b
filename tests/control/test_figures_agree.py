"""One moment, one set of figures: ``status``, ``queue`` and ``health`` (and so ``GET /health``) show the same queue
figures, the processing rate included, and what is failing now apart from what failed before (issue 15)."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from halosync.engine.ledger import add_totals
from halosync.store.models import Outbox
from tests.control.harness import running_daemon
from tests.control.test_engine_control import engine_daemon
from tests.inspect.seed import seed

Capsys = pytest.CaptureFixture[str]


def story() -> dict[str, int]:
    """Three dead letters (seed), five writes done two minutes ago (inside the rate's five minutes, outside a
    one-minute window), a write that failed once and waits an hour for its next attempt, four failures counted."""
    ids = seed()
    now = time.time()
    for n in range(5):
        Outbox.create(key=f"done-{n}", sink="halopsa", kind="person", action="update", entity_id=1,
                      payload={"fields": {}}, state="done", source="apollo", source_id=f"d{n}",
                      updated_at=now - 120)
    Outbox.create(key="retrying", sink="halopsa", kind="person", action="update", entity_id=1,
                  payload={"fields": {}}, state="pending", attempts=1, last_error="HTTP 503",
                  next_attempt_at=now + 3600, source="apollo", source_id="r1")
    add_totals(Counter(failed=4))
    return ids


def comparable(queue: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in queue.items() if k != "oldest_age_seconds"}  # the age moves with the clock


async def test_status_queue_and_health_show_one_set_of_figures(capsys: Capsys) -> None:
    async with engine_daemon() as (running, _fakes):
        ids = await running.daemon.store.transaction(story)
        _, status = await running.ctl_json(capsys, "status")
        _, queue = await running.ctl_json(capsys, "queue")
        _, health = await running.ctl_json(capsys, "health")
        assert comparable(status["queue"]) == comparable(queue) == comparable(health["checks"]["queue"])
        assert queue["rate_per_minute"] == 1.2  # the seed's write and these 5, over five minutes
        assert queue["failing"] == {"now": 4, "dead": 3, "retrying": 1, "before": 1}
        assert status["totals"]["failed"] == 4  # the total is kept as it was

        # A dead letter dropped no longer fails now; it failed before. The total stays.
        code, _, _ = await running.ctl(capsys, "dlq", "drop", str(ids["intake"]))
        assert code == 0
        _, queue = await running.ctl_json(capsys, "queue")
        assert queue["failing"] == {"now": 3, "dead": 2, "retrying": 1, "before": 2}
        code, out, _ = await running.ctl(capsys, "queue")
        assert "failing now" in out and "3 (2 dead letters, 1 writes retrying)" in out
        assert "failed before, since resolved" in out


async def test_a_plugin_error_it_recovered_from_is_shown_as_before_not_now(capsys: Capsys) -> None:
    from halosync.errors import TransientProviderError

    async with running_daemon() as running:  # no engine: nothing else records the plugin's health meanwhile
        daemon = running.daemon
        daemon.record_failure("halopsa", TransientProviderError("halopsa", "the service is down", status=503),
                              "writing users")
        _, status = await running.ctl_json(capsys, "status")
        _, health = await running.ctl_json(capsys, "health")
        assert status["plugins"]["halopsa"]["failing"] is True and health["checks"]["halopsa"]["failing"] is True
        code, out, _ = await running.ctl(capsys, "status")
        assert "failing now" in out and "HTTP 503: the service is down" in out

        daemon.record_success("halopsa")
        _, status = await running.ctl_json(capsys, "status")
        _, health = await running.ctl_json(capsys, "health")
        assert status["plugins"]["halopsa"]["failing"] is False and health["checks"]["halopsa"]["failing"] is False
        assert status["plugins"]["halopsa"]["last_error"]  # kept, as history
        code, out, _ = await running.ctl(capsys, "status")
        assert code == 0
        row = next(line for line in out.splitlines() if line.startswith("halopsa"))
        cells = [c.strip() for c in row.split("│")]
        # failing now: nothing; failed before: it
        assert cells[4] == "-" and "HTTP 503: the service is down" in cells[5]
