"""Queue figures and totals, straight from the store (they match what the engine reports, because the store is
the queue)."""

from __future__ import annotations

import time
from typing import Any

import peewee as pw

from halosync.inspect.queries import fetch, id_of
from halosync.store.models import DeadLetter, Link, Outbox, StagedLead, WebhookInbox

RATE_WINDOW_SECONDS = 300.0
TOTAL_NAMES = ("seen", "created", "updated", "merged", "skipped", "failed")


def queue_figures(now: float | None = None) -> dict[str, Any]:
    """{pending, in_flight, dead, oldest_age_seconds, rate_per_minute, by_sink, staged_pending, webhooks_pending}."""
    now = time.time() if now is None else now
    by_sink: dict[str, dict[str, int]] = {}
    pending = in_flight = 0
    oldest: float | None = None
    rows = fetch(Outbox.select(Outbox.sink, Outbox.state, pw.fn.COUNT(id_of(Outbox)).alias("n"),
                          pw.fn.MIN(Outbox.created_at).alias("oldest"))
            .where(Outbox.state.in_(("pending", "in_flight")))
            .group_by(Outbox.sink, Outbox.state).tuples())
    for sink, state, count, first in rows:
        figures = by_sink.setdefault(sink, {"pending": 0, "in_flight": 0})
        figures[state] = int(count)
        if state == "pending":
            pending += int(count)
        else:
            in_flight += int(count)
        if first is not None:
            oldest = first if oldest is None else min(oldest, first)
    done_recently = (Outbox.select().where((Outbox.state == "done") & (Outbox.updated_at >= now - RATE_WINDOW_SECONDS))
                     .count())
    return {
        "pending": pending,
        "in_flight": in_flight,
        "dead": DeadLetter.select().count(),
        "oldest_age_seconds": round(max(0.0, now - oldest), 3) if oldest is not None else 0.0,
        "rate_per_minute": round(done_recently * 60.0 / RATE_WINDOW_SECONDS, 2),
        "by_sink": by_sink,
        "staged_pending": StagedLead.select().where(StagedLead.state == "pending").count(),
        "webhooks_pending": WebhookInbox.select().where(WebhookInbox.state == "pending").count(),
    }


def stored_totals() -> dict[str, int]:
    """The running totals the engine keeps in the store; without them (an older store), figures derived from the
    tables: staged leads, outbox writes done by action, merged links, dead letters."""
    from halosync.store import models

    totals = dict.fromkeys(TOTAL_NAMES, 0)
    table = getattr(models, "Total", None)
    if table is not None and table.table_exists():
        for name, value in fetch(table.select(table.name, table.value).tuples()):
            totals[name] = int(value)
        return totals
    totals["seen"] = StagedLead.select().count()
    done = Outbox.select(Outbox.action, pw.fn.COUNT(id_of(Outbox))).where(Outbox.state == "done")
    for action, count in fetch(done.group_by(Outbox.action).tuples()):
        if action == "create":
            totals["created"] = int(count)
        elif action == "update":
            totals["updated"] = int(count)
    totals["merged"] = Link.select().where(Link.merged == True).count()  # noqa: E712 (peewee expression)
    totals["failed"] = DeadLetter.select().count()
    return totals
