"""The sync log's lines for one unit of work, from its Ledger: a dead letter is an error naming the lead, a retry a
warning, a dead letter without a source id still an error, and a lead that is retried and dies in the same unit is
one error, not a warning too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loguru import logger

from halosync.engine import synclog
from halosync.engine.ledger import Ledger


@pytest.fixture
def lines() -> Iterator[list[tuple[str, str, str | None]]]:
    seen: list[tuple[str, str, str | None]] = []
    handler = logger.add(lambda m: seen.append((m.record["level"].name, m.record["message"],
                                                m.record["extra"].get("channel"))), format="{message}")
    yield seen
    logger.remove(handler)


def test_failures_of_a_unit(lines: list[tuple[str, str, str | None]]) -> None:
    ledger = Ledger()
    write = {"sink": "halopsa", "kind": "person", "action": "create", "outbox_id": 1, "attempt": 3}
    ledger.trace("apollo", "a1", "write", outcome="retry", error="HTTP 500", **write)
    ledger.trace("apollo", "a2", "write", outcome="retry", error="HTTP 500", **write)
    ledger.trace("apollo", "a2", "dead", stage="write", reason="gave up after 3 attempts: HTTP 500")
    ledger.trace("apollo", "a3", "write", outcome="ok", sink_id="9", **write)
    ledger.dead = 2  # a2, and a record the source sent without an id (never traced)
    synclog.failures(ledger)
    assert lines == [
        ("WARNING", "retry: lead apollo:a1 create person on halopsa failed (attempt 3): HTTP 500; it is tried again",
         "sync"),
        ("ERROR", "dead letter: lead apollo:a2 failed at write: gave up after 3 attempts: HTTP 500", "sync"),
        ("ERROR", "dead letter: 1 record(s) without a source id failed; `halosyncctl dlq list` shows them", "sync"),
    ]
