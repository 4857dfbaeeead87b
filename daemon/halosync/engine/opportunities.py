"""Opportunities: one sink record per person halosync creates in a sink that writes them (``"opportunity"`` in
``Sink.kinds``), linked to that person's record and its company's. Part of the outbox's settle step: a person
create settling plans the row (``outbox.settle`` calls ``plan``), which then goes the ordinary way (claim, settle,
``links``).

An opportunity depends on its person's sink id, which only exists once the person's create has settled. So the
opportunity's outbox row is planned then, in the same transaction that records the person's sink_ref (``plan``):
a crash either leaves both or neither, and no row ever waits on a record that may never exist (a person create
that dies takes nothing along; there is nothing to cancel). Only creates plan one: a person matched to a record the
sink already held (adopted, merged, updated) never gets an opportunity, and neither does a person whose earlier
create failed and is written again later under the same key.

The row's idempotency key is ``{sink}/opportunity/{person entity id}/create``: planning it twice (the person's
create settled again after a crash, or created again after the sink deleted it) inserts nothing, so a person has at
most one opportunity per sink, ever. Its write goes through the ordinary path: claimed after the creates of
companies and people, reconciled through ``Sink.find`` before a retry when an earlier attempt may have reached the
sink, settled with a sink_ref, a link from the person's first source record, the mirror's copy and lineage
(``halosyncctl trace``), and counted in the ``opportunities_created`` total (not in ``created``, which counts
leads).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from halosync.contracts import EntityKind, SinkRecord, WriteOp
from halosync.engine import mirror
from halosync.engine.index import chunks, tuples
from halosync.engine.ledger import Ledger
from halosync.engine.links import link_opportunities
from halosync.engine.outbox_rows import create_key, new_row
from halosync.engine.sql import insert_rows, select_in
from halosync.store.models import Outbox, SinkRef

KIND: EntityKind = "opportunity"
Done = Sequence[tuple[Outbox, WriteOp, str]]  # (outbox row, its op, the sink id it settled with)


def key(sink: str, person_entity_id: int) -> str:
    return create_key(sink, KIND, person_entity_id)


def plan(sink: str, people: Done, ledger: Ledger, now: float) -> int:
    """After person creates settled: an opportunity create for each of them that has none yet; returns how many
    were planned. The payload carries the person's fields (the templates' values) and its sink id."""
    wanted = {key(sink, row.entity_id): (row, op, sink_id) for row, op, sink_id in people}
    existing: set[str] = set()
    for part in chunks(sorted(wanted)):
        existing.update(str(k) for (k,) in tuples(Outbox.select(Outbox.key).where(Outbox.key.in_(part))))
    rows: list[dict[str, Any]] = []
    for row_key, (row, op, sink_id) in wanted.items():
        if row_key in existing:
            continue
        rows.append(new_row(row_key, sink, KIND, "create", row.entity_id, row.source, row.source_id,
                            {"fields": dict(op.fields), "staged_id": row.payload.get("staged_id"),
                             "person_sink_id": sink_id}, now, parent=row.parent_entity_id))
        ledger.trace(row.source or "", row.source_id or "", "planned", sink=sink, kind=KIND, action="create",
                     person_sink_id=sink_id, via="person created")
    insert_rows(Outbox, rows, ignore_conflicts=True)
    return len(rows)


def with_people(sink: str, rows: Sequence[Outbox], ops: list[WriteOp]) -> list[WriteOp]:
    """The ops of claimed opportunity rows with ``person_id`` set: the person's current sink id (a record created
    again since has a new one), else the one it had when the opportunity was planned."""
    current: dict[int, str] = dict(select_in(SinkRef, ("entity_id", "sink_id"), "entity_id",
                                             [r.entity_id for r in rows], {"sink": sink, "kind": "person"}))
    return [dataclasses.replace(op, person_id=current.get(row.entity_id) or row.payload.get("person_sink_id"))
            for row, op in zip(rows, ops, strict=True)]


def created(sink: str, done: Done, ledger: Ledger, now: float) -> None:
    """Opportunities written: their sink_refs, the mirror's copy, and a link from the source record behind each
    (the one whose person create planned it; duplicates merged into that person share the person's links)."""
    insert_rows(SinkRef, [{"sink": sink, "kind": KIND, "entity_id": row.entity_id, "sink_id": sid,
                           "created_at": now} for row, _, sid in done], ignore_conflicts=True)
    mirror.upsert(sink, [SinkRecord(KIND, sid, dict(op.fields), op.parent_id) for _, op, sid in done], now)
    link_opportunities(sink, KIND, done, ledger, now)
    ledger.count("opportunities_created", len(done))


def of_person(person_entity_id: int) -> list[dict[str, Any]]:
    """The opportunities planned for a person, one per sink, with the sink id once written (for ``trace``: a
    duplicate lead shows the opportunity of the person it joined, not only the lead that planned it)."""
    out: list[dict[str, Any]] = []
    for row in Outbox.select().where((Outbox.kind == KIND) & (Outbox.entity_id == person_entity_id)).order_by(
            Outbox.id):
        ref = SinkRef.get_or_none((SinkRef.sink == row.sink) & (SinkRef.kind == KIND) &
                                  (SinkRef.entity_id == person_entity_id))
        out.append({"sink": row.sink, "outbox_id": row.id, "state": row.state, "attempts": row.attempts,
                    "sink_id": ref.sink_id if ref is not None else None, "last_error": row.last_error,
                    "planned_by": f"{row.source}:{row.source_id}"})
    return out
