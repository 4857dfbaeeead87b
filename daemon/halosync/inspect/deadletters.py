"""Dead letters: list them, send them back through the pipeline, or drop them.

How a dead letter is retried depends on where it died (see ``DeadLetter`` in the store models):
    write    its outbox row goes back to pending with ``reconcile`` set (the sink is asked first whether an earlier
             attempt got through, so a retry never creates a second record)
    match    its staged lead goes back to pending and is matched again
    webhook  its inbox delivery goes back to pending
    intake   nothing to requeue: the source record never became a lead; fix it at the source, the next pull
             brings it again
The caller wakes the engine afterwards (``engine.wake()``) when a daemon runs. Each retry and drop is recorded in
the lead's lineage, so ``trace`` shows it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from halosync.inspect.queries import fetch, id_of, row_id
from halosync.store.models import DeadLetter, LineageEvent, Outbox, StagedLead, WebhookInbox

LIST_LIMIT = 1000


def describe(row: DeadLetter) -> dict[str, Any]:
    return {
        "id": row_id(row), "stage": row.stage, "source": row.source, "source_id": row.source_id, "sink": row.sink,
        "outbox_id": row.outbox_id, "reason": row.reason, "attempts": row.attempts, "created_at": row.created_at,
    }


def list_dead_letters(limit: int = LIST_LIMIT, stage: str | None = None) -> dict[str, Any]:
    query = DeadLetter.select()
    if stage:
        query = query.where(DeadLetter.stage == stage)
    rows = query.order_by(DeadLetter.created_at.desc(), id_of(DeadLetter).desc()).limit(limit)
    return {"total": query.count(), "items": [describe(r) for r in fetch(rows)]}


def _lineage(row: DeadLetter, stage: str) -> None:
    if row.source and row.source_id:
        LineageEvent.create(source=row.source, source_id=row.source_id, stage=stage,
                            detail={"dead_letter": row_id(row), "stage": row.stage, "reason": row.reason})


def _requeue(row: DeadLetter) -> str | None:
    """Put what died back in the pipeline; returns why it cannot be, or None when it was requeued."""
    payload = row.payload if isinstance(row.payload, dict) else {}
    now = time.time()
    if row.outbox_id is not None:
        changed = (Outbox.update(state="pending", attempts=0, next_attempt_at=0.0, last_error=None, claimed_by=None,
                                 claimed_at=None, reconcile=True, updated_at=now)
                   .where((id_of(Outbox) == row.outbox_id) & (Outbox.state != "done")).execute())
        if changed or Outbox.select().where(id_of(Outbox) == row.outbox_id).exists():
            return None  # requeued, or already written by a later attempt: either way the letter is resolved
        return f"its outbox row {row.outbox_id} no longer exists; run `halosyncctl sync --full` to plan it again"
    if row.stage == "webhook":
        inbox_id, delivery = payload.get("inbox_id"), payload.get("delivery_id")
        query = WebhookInbox.update(state="pending", error=None, processed_at=None)
        if isinstance(inbox_id, int):
            changed = query.where(id_of(WebhookInbox) == inbox_id).execute()
        elif isinstance(delivery, str) and row.source:
            changed = query.where((WebhookInbox.plugin == row.source) &
                                  (WebhookInbox.delivery_id == delivery)).execute()
        else:
            changed = 0
        return None if changed else "the webhook delivery is no longer stored; ask the provider to send it again"
    staged_id = payload.get("staged_id")
    query = StagedLead.update(state="pending", processed_at=None)
    if isinstance(staged_id, int):
        changed = query.where(id_of(StagedLead) == staged_id).execute()
    elif row.source and row.source_id and row.stage != "intake":
        changed = query.where((StagedLead.source == row.source) & (StagedLead.source_id == row.source_id)).execute()
    else:
        changed = 0
    if changed:
        return None
    if row.stage == "intake":
        return "the source record never became a lead; fix it at the source and the next pull brings it again"
    return "the lead is no longer staged; run `halosyncctl sync --full` to pull it again"


def retry_dead_letters(ids: Sequence[int] | None) -> dict[str, Any]:
    """Retry the given dead letters (all of them when ``ids`` is None). Run inside one transaction."""
    query = DeadLetter.select().order_by(id_of(DeadLetter))
    if ids is not None:
        query = query.where(id_of(DeadLetter).in_(list(ids)))
    rows = fetch(query)
    found = {row_id(r) for r in rows}
    retried: list[int] = []
    failed: list[dict[str, Any]] = [{"id": i, "reason": "no dead letter with this id"} for i in ids or () if
                                    i not in found]
    for row in rows:
        why_not = _requeue(row)
        if why_not is None:
            _lineage(row, "retried")
            row.delete_instance()
            retried.append(row_id(row))
        else:
            failed.append({"id": row_id(row), "reason": why_not})
    return {"retried": retried, "failed": failed}


def drop_dead_letters(ids: Sequence[int]) -> dict[str, Any]:
    """Forget dead letters for good; their outbox rows are cancelled. Run inside one transaction."""
    rows = fetch(DeadLetter.select().where(id_of(DeadLetter).in_(list(ids))))
    for row in rows:
        if row.outbox_id is not None:
            Outbox.update(state="cancelled", updated_at=time.time()).where(
                (id_of(Outbox) == row.outbox_id) & (Outbox.state == "dead")).execute()
        _lineage(row, "dropped")
        row.delete_instance()
    found = {row_id(r) for r in rows}
    return {"dropped": sorted(found), "missing": [i for i in ids if i not in found]}
