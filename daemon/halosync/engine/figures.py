"""The queue figures: the one definition behind ``EngineAPI.queue()`` (and so ``GET /health`` and the alert rules),
the control socket's ``queue`` and ``status``, ``halosync demo``'s progress line and the store inspection tests.

They are read straight from the store, because the store is the queue: every reader sees the same numbers at the
same moment, whichever path it asks through. Totals have their one home beside their writer,
``ledger.read_totals``.
"""

from __future__ import annotations

import time
from typing import Any

import peewee as pw

from halosync.engine.index import tuples
from halosync.store.models import DeadLetter, Outbox, StagedLead, Total, WebhookInbox

# The processing rate counts the writes done in the last five minutes, given per minute. Workers drain the queue
# in bursts after each pull, so a one-minute window reads 0 between bursts although work flows; five minutes
# smooths that while still showing a stall within minutes.
RATE_WINDOW_SECONDS = 300.0


def queue_figures(now: float | None = None) -> dict[str, Any]:
    """``{pending, in_flight, dead, oldest_age_seconds, rate_per_minute, by_sink, staged_pending, webhooks_pending,
    review, failing}``: outbox rows waiting and being written (in all and per sink), dead letters, the age of the
    oldest unfinished row, writes done per minute over the last RATE_WINDOW_SECONDS, staged leads not matched yet,
    webhook deliveries not staged yet, leads held for a human's review, and ``failing_figures``."""
    now = time.time() if now is None else now
    by_sink: dict[str, dict[str, int]] = {}
    pending = in_flight = 0
    oldest: float | None = None
    rows = tuples(Outbox.select(Outbox.sink, Outbox.state, pw.fn.COUNT(Outbox.id), pw.fn.MIN(Outbox.created_at))
                  .where(Outbox.state.in_(("pending", "in_flight")))
                  .group_by(Outbox.sink, Outbox.state))
    for sink, state, count, first in rows:
        figures = by_sink.setdefault(sink, {"pending": 0, "in_flight": 0})
        figures[state] = int(count)
        if state == "pending":
            pending += int(count)
        else:
            in_flight += int(count)
        if first is not None:
            oldest = first if oldest is None else min(oldest, first)
    dead = DeadLetter.select().count()
    done_recently = (Outbox.select().where((Outbox.state == "done") & (Outbox.updated_at >= now - RATE_WINDOW_SECONDS))
                     .count())
    return {
        "pending": pending,
        "in_flight": in_flight,
        "dead": dead,
        "oldest_age_seconds": round(max(0.0, now - oldest), 3) if oldest is not None else 0.0,
        "rate_per_minute": round(done_recently * 60.0 / RATE_WINDOW_SECONDS, 2),
        "by_sink": by_sink,
        "staged_pending": StagedLead.select().where(StagedLead.state == "pending").count(),
        "webhooks_pending": WebhookInbox.select().where(WebhookInbox.state == "pending").count(),
        "review": StagedLead.select().where(StagedLead.state == "review").count(),
        "failing": failing_figures(dead),
    }


def failing_figures(dead: int) -> dict[str, int]:
    """What is failing now, apart from what failed before: ``{now, dead, retrying, before}``. The ``failed`` total
    counts every failure since the store was created and never goes down; ``now`` is what still needs a hand or a
    retry: dead letters (``dead``) and writes that failed and wait for their next attempt (``retrying``). ``before``
    is the failures since retried with success, or dropped: the total minus the dead letters still there."""
    retrying = (Outbox.select().where(Outbox.state.in_(("pending", "in_flight")) & Outbox.last_error.is_null(False))
                .count())
    row = Total.get_or_none(Total.name == "failed")
    failed_total = int(row.value) if row is not None else 0
    return {"now": dead + retrying, "dead": dead, "retrying": retrying, "before": max(0, failed_total - dead)}
