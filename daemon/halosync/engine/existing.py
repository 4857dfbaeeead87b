"""Creates whose identity meanwhile got a record in their sink: they never create, they update it (or nothing).
Part of the outbox's claim and settle steps (``outbox.claim``, ``outbox.settle``; the worker's recheck before the
write reads ``records_of``); the links it writes go through ``links``.

An outbox create is planned when its identity has no record in the sink, but it may wait a long time before a
worker takes it (a rate limit, a crash, a retry after a lost answer). In between the identity can get a record by
another path: a later lead adopted one found in the mirror (perhaps the very record an earlier attempt of this
create made, whose answer a crash lost), a merge, a webhook, a mirror refresh, or a link written by another row.
Writing the create then would make a second record of one person. So the rule is checked where the worker is
about to write: when it claims the row (same transaction) and again right before the write; a row released after
a crash is claimed like any other, so it passes the same check.

Such a row is settled as done with outcome ``exists`` (lineage: the record it found and why), its fields become an
update of that record diffed against the mirror with the conflict policy (only what changes; nothing when nothing
does), and every lead of the identity is linked to the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from halosync.engine.conflict import ConflictPolicy
from halosync.engine.ledger import Ledger
from halosync.engine.links import link_leads
from halosync.engine.outbox_rows import new_row, update_key, update_payload
from halosync.engine.sql import insert_one, select_in
from halosync.store.models import MirrorRecord, Outbox, SinkRef

WHY = "the identity got this record after the create was planned (an adoption, merge, webhook, mirror refresh " \
      "or another row's link), so the create became an update of it"


def records_of(sink: str, kind: str, entity_ids: Sequence[int]) -> dict[int, str]:
    """entity id -> the sink id its identity has in ``sink`` now (only those that have one)."""
    return dict(select_in(SinkRef, ("entity_id", "sink_id"), "entity_id", list(entity_ids),
                          {"sink": sink, "kind": kind}))


def divert(rows: Sequence[Outbox], records: dict[int, str], policy: ConflictPolicy, ledger: Ledger,
           now: float) -> None:
    """Settle create ``rows`` whose entity has a record (``records``) as updates of it, in the caller's
    transaction. The rows become done; an update row is added for what changes."""
    if not rows:
        return
    sink, kind = rows[0].sink, rows[0].kind
    known = dict(select_in(MirrorRecord, ("sink_id", "fields"), "sink_id", sorted({records[r.entity_id]
                                                                                   for r in rows}),
                           {"sink": sink, "kind": kind}))
    for row in rows:
        sink_id = records[row.entity_id]
        fields: dict[str, Any] = dict(row.payload.get("fields") or {})
        diff = policy.diff(kind, fields, dict(known.get(sink_id) or {}))
        update_id = None
        if diff:
            update_id = insert_one(Outbox, new_row(
                update_key(sink, kind, row.entity_id, f"from-create-{row.id}@{now:.6f}"), sink, kind, "update",
                row.entity_id, row.source, row.source_id,
                update_payload(diff, sink_id, row.payload.get("staged_id")), now))
        payload = {**row.payload, "became": {"sink_id": sink_id, "update_outbox_id": update_id}}
        Outbox.update(state="done", last_error=None, reconcile=False, claimed_by=None, payload=payload,
                      updated_at=now).where(Outbox.id == row.id).execute()
        ledger.trace(row.source or "", row.source_id or "", "write", sink=sink, kind=kind, action="create",
                     outbox_id=row.id, attempt=row.attempts, outcome="exists", sink_id=sink_id,
                     became="update" if diff else "none", update_outbox_id=update_id, diff=diff, why=WHY)
        if update_id is not None:
            ledger.due_again(now)
    link_leads(sink, kind, {r.entity_id: records[r.entity_id] for r in rows}, ledger, now, existed=True)
